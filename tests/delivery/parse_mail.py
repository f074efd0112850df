#!/usr/bin/python3
"""parse_mail.py FILE.eml - parse a received message with Python's email
package (policy.default: strict header and RFC 2047 decoding) and print
JSON: decoded headers, the MIME tree, the text and HTML bodies, the
calendar attachment (decoded) and its unfolded content lines. Exit 1 on
anything the package reports as a defect."""
import email
import email.policy
import json
import sys

raw = open(sys.argv[1], 'rb').read()
m = email.message_from_bytes(raw, policy=email.policy.default)
defects = [type(d).__name__ for p in m.walk() for d in p.defects]
out = {
    'from': str(m['From']), 'from_addr': m['From'].addresses[0].addr_spec,
    'from_name': m['From'].addresses[0].display_name,
    'to': str(m['To']), 'to_addr': m['To'].addresses[0].addr_spec,
    'subject': str(m['Subject']), 'raw_subject': None,
    'message_id': str(m['Message-ID']), 'date': str(m['Date']),
    'auto_submitted': str(m['Auto-Submitted']),
    'tree': [p.get_content_type() for p in m.walk()],
    'defects': defects,
    'max_line': max(len(l) for l in raw.split(b'\r\n')),
    'bare_lf': b'\n' in raw.replace(b'\r\n', b''),
}
for line in raw.split(b'\r\n'):
    if line.startswith(b'Subject:'):
        out['raw_subject'] = line.decode('ascii')
out['text'] = m.get_body(('plain',)).get_content()
out['html'] = m.get_body(('html',)).get_content()
cal = [p for p in m.walk() if p.get_content_type() == 'text/calendar']
if cal:
    p = cal[0]
    out['ics_filename'] = p.get_filename()
    out['ics_method'] = p.get_param('method')
    ics = p.get_payload(decode=True).decode('utf-8')
    out['ics'] = ics
    lines = []
    for l in ics.split('\r\n'):
        if l.startswith(' ') and lines:
            lines[-1] += l[1:]
        elif l:
            lines.append(l)
    out['ics_lines'] = lines
print(json.dumps(out))
sys.exit(1 if defects else 0)
