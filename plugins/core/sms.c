/* sms.c - GSM-7 detection, UCS-2 fallback and segmentation, see sms.h. */
#include <stdbool.h>
#include <stdint.h>
#include "sms.h"
#include "text.h"

/* GSM 03.38 default alphabet as Unicode, in table order. 0x1B is the
 * escape; its slot holds a surrogate, which the decoder never yields. */
static const uint16_t gsm_basic[128] = {
	0x0040,
	0x00A3,
	0x0024,
	0x00A5,
	0x00E8,
	0x00E9,
	0x00F9,
	0x00EC,
	0x00F2,
	0x00C7,
	0x000A,
	0x00D8,
	0x00F8,
	0x000D,
	0x00C5,
	0x00E5,
	0x0394,
	0x005F,
	0x03A6,
	0x0393,
	0x039B,
	0x03A9,
	0x03A0,
	0x03A8,
	0x03A3,
	0x0398,
	0x039E,
	0xD800,
	0x00C6,
	0x00E6,
	0x00DF,
	0x00C9,
	0x0020,
	0x0021,
	0x0022,
	0x0023,
	0x00A4,
	0x0025,
	0x0026,
	0x0027,
	0x0028,
	0x0029,
	0x002A,
	0x002B,
	0x002C,
	0x002D,
	0x002E,
	0x002F,
	0x0030,
	0x0031,
	0x0032,
	0x0033,
	0x0034,
	0x0035,
	0x0036,
	0x0037,
	0x0038,
	0x0039,
	0x003A,
	0x003B,
	0x003C,
	0x003D,
	0x003E,
	0x003F,
	0x00A1,
	0x0041,
	0x0042,
	0x0043,
	0x0044,
	0x0045,
	0x0046,
	0x0047,
	0x0048,
	0x0049,
	0x004A,
	0x004B,
	0x004C,
	0x004D,
	0x004E,
	0x004F,
	0x0050,
	0x0051,
	0x0052,
	0x0053,
	0x0054,
	0x0055,
	0x0056,
	0x0057,
	0x0058,
	0x0059,
	0x005A,
	0x00C4,
	0x00D6,
	0x00D1,
	0x00DC,
	0x00A7,
	0x00BF,
	0x0061,
	0x0062,
	0x0063,
	0x0064,
	0x0065,
	0x0066,
	0x0067,
	0x0068,
	0x0069,
	0x006A,
	0x006B,
	0x006C,
	0x006D,
	0x006E,
	0x006F,
	0x0070,
	0x0071,
	0x0072,
	0x0073,
	0x0074,
	0x0075,
	0x0076,
	0x0077,
	0x0078,
	0x0079,
	0x007A,
	0x00E4,
	0x00F6,
	0x00F1,
	0x00FC,
	0x00E0,
};

/* Extension table (after 0x1B): FF ^ { } \ [ ~ ] | € */
static const uint16_t gsm_ext[] = {
	0x000C,
	0x005E,
	0x007B,
	0x007D,
	0x005C,
	0x005B,
	0x007E,
	0x005D,
	0x007C,
	0x20AC,
};

unsigned consult_sms_gsm7_septets(unsigned long cp)
{
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	for (size_t i = 0; i < 128; i++)
		if (gsm_basic[i] == cp)
			return 1;
	for (size_t i = 0; i < sizeof gsm_ext / sizeof gsm_ext[0]; i++)
		if (gsm_ext[i] == cp)
			return 2;
	return 0;
}

static bool is_control(uint32_t cp)
{
	if (cp == '\n' || cp == '\r')
		return false;
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Pass 1: validity and encoding. */
static consult_err scan(const char *text, size_t len, consult_sms_encoding *enc)
{
	size_t i = 0;
	*enc = CONSULT_SMS_GSM7;
	while (i < len) {
		uint32_t cp;
		if (!consult_utf8_next(text, len, &i, &cp) || is_control(cp))
			return CONSULT_ERR_INVALID_UTF8;
		if (consult_sms_gsm7_septets(cp) == 0)
			*enc = CONSULT_SMS_UCS2;
	}
	return CONSULT_OK;
}

static size_t cost(consult_sms_encoding enc, uint32_t cp)
{
	if (enc == CONSULT_SMS_GSM7)
		return consult_sms_gsm7_septets(cp);
	return cp > 0xffff ? 2 : 1;
}

consult_err consult_sms_split(const char *text, size_t len, consult_sms_part *parts, size_t max_parts, size_t *n_parts,
        consult_sms_info *info)
{
	consult_sms_info tmp;
	if (!info)
		info = &tmp;
	info->encoding = CONSULT_SMS_GSM7;
	info->units = info->parts = 0;
	if (n_parts)
		*n_parts = 0;
	if (!text)
		return CONSULT_ERR_MISSING_FIELD;
	consult_sms_encoding enc;
	consult_err e = scan(text, len, &enc);
	if (e != CONSULT_OK)
		return e;
	info->encoding = enc;

	size_t total = 0, i = 0;
	while (i < len) {
		uint32_t cp;
		consult_utf8_next(text, len, &i, &cp);
		total += cost(enc, cp);
	}
	info->units = total;
	if (total == 0)
		return CONSULT_OK;
	size_t single = enc == CONSULT_SMS_GSM7 ? CONSULT_SMS_GSM7_SINGLE : CONSULT_SMS_UCS2_SINGLE;
	size_t cap = enc == CONSULT_SMS_GSM7 ? CONSULT_SMS_GSM7_PART : CONSULT_SMS_UCS2_PART;
	if (total <= single) {
		info->parts = 1;
		if (parts && max_parts >= 1)
			parts[0] = (consult_sms_part){ 0, len, total };
	} else {
		size_t n = 0, start = 0, units = 0;
		i = 0;
		while (i < len) {
			size_t at = i;
			uint32_t cp;
			consult_utf8_next(text, len, &i, &cp);
			size_t c = cost(enc, cp);
			if (units + c > cap) {
				if (parts && n < max_parts)
					parts[n] = (consult_sms_part){ start, at - start, units };
				n++;
				start = at;
				units = 0;
			}
			units += c;
		}
		if (parts && n < max_parts)
			parts[n] = (consult_sms_part){ start, len - start, units };
		info->parts = n + 1;
	}
	if (n_parts)
		*n_parts = info->parts;
	if (parts && info->parts > max_parts)
		return CONSULT_ERR_TOO_LONG;
	return CONSULT_OK;
}

consult_err consult_sms_analyse(const char *text, size_t len, consult_sms_info *out)
{
	return consult_sms_split(text, len, NULL, 0, NULL, out);
}
