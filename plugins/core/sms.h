/* sms.h - SMS encoding and segmentation (3GPP TS 23.038 / 23.040).
 *
 * Contract: pure, no allocation. Input is UTF-8 (pointer and byte length).
 * GSM 7-bit is used when every character is in the default alphabet or its
 * extension table; extension characters (FF ^ { } \ [ ~ ] | €) cost two
 * septets (escape + char). Otherwise UCS-2 (really UTF-16, as gateways
 * send it): characters above U+FFFF are surrogate pairs and count two
 * units. Capacity: GSM-7 160 septets in one SMS, 153 per part when
 * concatenated (UDH); UCS-2 70 / 67 units. Parts are cut at character
 * boundaries only, so an escape pair or a surrogate pair is never split;
 * the number of parts is therefore computed by cutting, not by division.
 * Control characters other than LF and CR are refused (INVALID_UTF8), as is
 * invalid UTF-8. Empty text: 0 units, 0 parts.
 */
#ifndef CONSULT_SMS_H
#define CONSULT_SMS_H

#include <stddef.h>
#include "errors.h"

#define CONSULT_SMS_GSM7_SINGLE 160
#define CONSULT_SMS_GSM7_PART   153
#define CONSULT_SMS_UCS2_SINGLE 70
#define CONSULT_SMS_UCS2_PART   67

typedef enum consult_sms_encoding {
	CONSULT_SMS_GSM7 = 7,
	CONSULT_SMS_UCS2 = 16,
} consult_sms_encoding;

typedef struct consult_sms_info {
	consult_sms_encoding encoding;
	size_t units; /* septets (GSM-7) or UTF-16 code units (UCS-2) */
	size_t parts; /* number of SMS needed */
} consult_sms_info;

/* A part as a byte range of the input text. */
typedef struct consult_sms_part {
	size_t offset, length; /* bytes */
	size_t units;          /* septets or UTF-16 units in this part */
} consult_sms_part;

/* Septets a code point costs in GSM-7: 1 (default alphabet), 2 (extension
 * table) or 0 (not representable). */
unsigned consult_sms_gsm7_septets(unsigned long cp);

/* Encoding, length and number of parts of a text. */
consult_err consult_sms_analyse(const char *text, size_t len, consult_sms_info *out);

/* Cuts the text into parts (at most max_parts; CONSULT_ERR_TOO_LONG if more
 * are needed, *n_parts then holds the number needed). */
consult_err consult_sms_split(const char *text, size_t len, consult_sms_part *parts, size_t max_parts, size_t *n_parts,
        consult_sms_info *info);

#endif
