// i18n.mjs: German/English strings for the consult pages.
// Contract: lang() is 'de' (default) or 'en' (?lang=en). t(key, vars)
// returns the string with {name} placeholders filled (unknown key: the key).
// applyI18n(root) sets textContent of [data-i18n], and attributes via
// [data-i18n-placeholder] / [data-i18n-aria-label] / [data-i18n-title].
// initLangToggle() wires button#lang; onLangChange(fn) re-renders dynamic text.
// errorText(err, vars) maps a ConsultError (error name) to a readable text.

const de = {
  'lang.toggle': 'English',
  'app.title': 'Videosprechstunde',
  'common.loading': 'Wird geladen …',
  'common.logout': 'Abmelden',
  'common.username': 'Benutzername',
  'common.password': 'Passwort',
  'common.login': 'Anmelden',
  'common.login.title': 'Anmeldung für Praxispersonal',
  'common.reconnecting': 'Verbindung zum Server unterbrochen. Neuer Versuch …',
  'common.connected': 'Verbunden.',
  'common.terms': 'Nutzungsbedingungen und Datenschutz',
  'common.mute': 'Mikrofon aus',
  'common.unmute': 'Mikrofon an',
  'common.camera.off': 'Kamera aus',
  'common.camera.on': 'Kamera an',
  'common.hangup': 'Auflegen',
  'common.remote.video': 'Video der Gegenseite',
  'common.local.video': 'Eigenes Kamerabild',
  'common.any.doctor': 'Beliebige Ärztin/beliebiger Arzt',
  'common.wrong.role': 'Dieses Konto ist für diese Seite nicht vorgesehen.',
  'common.media.denied': 'Kamera oder Mikrofon konnten nicht verwendet werden. Bitte erlauben Sie den Zugriff in Ihrem Browser (Schloss-Symbol neben der Adresse → Kamera und Mikrofon „Zulassen“) und versuchen Sie es erneut.',
  'conn.new': 'Verbindung wird aufgebaut …',
  'conn.connecting': 'Verbindung wird aufgebaut …',
  'conn.connected': 'Verbunden',
  'conn.disconnected': 'Verbindung gestört – bitte warten …',
  'conn.failed': 'Verbindung fehlgeschlagen',
  'conn.closed': 'Verbindung beendet',
  'conn.recovering': 'Verbindung wird wiederhergestellt …',
  'conn.path.unknown': 'Verbindungsweg wird ermittelt …',
  'conn.path.none': 'Keine Verbindung',

  'index.intro': 'Videosprechstunde Ihrer Praxis: sicher, direkt zwischen Ihnen und Ihrer Ärztin oder Ihrem Arzt.',
  'index.patient': 'Für Patientinnen und Patienten',
  'index.patient.text': 'Ihre Praxis schickt Ihnen vor dem Termin einen Link mit persönlichem Zugangscode per SMS oder E-Mail. Bitte öffnen Sie diesen Link; dort geben Sie Ihren Namen ein und kommen in den virtuellen Warteraum.',
  'index.doctor': 'Ärztinnen und Ärzte',
  'index.reception': 'Anmeldung / Empfang',

  'patient.heading': 'Videosprechstunde',
  'patient.intro': 'Bitte geben Sie Ihren Namen ein, akzeptieren Sie die Nutzungsbedingungen und starten Sie die Sitzung.',
  'patient.code': 'Zugangscode',
  'patient.code.hint': 'Den Code haben Sie per SMS oder E-Mail erhalten, z. B. ABCD-EFGH-JKMN.',
  'patient.first': 'Vorname',
  'patient.last': 'Nachname',
  'patient.terms.accept': 'Ich akzeptiere die Nutzungsbedingungen und habe den Datenschutzhinweis gelesen.',
  'patient.terms.link': 'Nutzungsbedingungen lesen',
  'patient.start': 'Sitzung starten',
  'patient.missing.name': 'Bitte geben Sie Vor- und Nachnamen ein.',
  'patient.missing.terms': 'Bitte akzeptieren Sie die Nutzungsbedingungen.',
  'patient.missing.code': 'Bitte geben Sie Ihren Zugangscode ein.',
  'patient.missing.practice': 'Dieser Link ist unvollständig (Praxis fehlt). Bitte verwenden Sie den Link aus Ihrer SMS oder E-Mail.',
  'patient.joining': 'Sie werden angemeldet …',
  'patient.waiting.title': 'Sie sind im virtuellen Warteraum',
  'patient.ahead.0': 'Sie sind als Nächste/r dran',
  'patient.ahead.1': '1 Patient vor Ihnen',
  'patient.ahead.n': '{n} Patienten vor Ihnen',
  'patient.waiting.text': 'Bitte lassen Sie diese Seite geöffnet. Sie werden angerufen, sobald die Ärztin oder der Arzt bereit ist. Dann bitte „Annehmen“ tippen und Kamera und Mikrofon zulassen.',
  'patient.appointment': 'Ihr Termin: {time} Uhr',
  'patient.leave': 'Warteraum verlassen',
  'patient.ringing.title': 'Ihre Ärztin/Ihr Arzt ruft an',
  'patient.ringing.by': '{doctor} ruft an',
  'patient.accept': 'Annehmen',
  'patient.decline': 'Ablehnen',
  'patient.switch.camera': 'Kamera wechseln',
  'patient.ended.title': 'Die Sprechstunde ist beendet.',
  'patient.ended.text': 'Die Sprechstunde ist beendet. Sie können diese Seite schließen.',
  'patient.ended.self': 'Sie haben das Gespräch beendet. Sie können diese Seite schließen.',
  'patient.left': 'Sie haben den Warteraum verlassen. Sie können diese Seite schließen.',
  'patient.doctor.left': 'Die Verbindung zur Praxis wurde unterbrochen. Sie bleiben an Ihrem Platz im Warteraum und werden gleich erneut angerufen.',
  'patient.ring.cancelled': 'Der Anruf wurde beendet, bevor Sie annehmen konnten. Sie bleiben an Ihrem Platz im Warteraum.',
  'patient.declined': 'Sie haben den Anruf abgelehnt. Sie bleiben an Ihrem Platz im Warteraum.',
  'patient.taken.over': 'Die Sitzung wurde in einem anderen Fenster geöffnet. Bitte nutzen Sie das andere Fenster.',
  'patient.visit.cancelled': 'Ihr Termin wurde von der Praxis abgesagt.',
  'patient.visit.grace_expired': 'Die Verbindung war zu lange unterbrochen. Ihr Platz im Warteraum ist verfallen. Bitte öffnen Sie den Link erneut.',
  'patient.visit.other': 'Ihre Sitzung wurde beendet.',
  'patient.reconnecting': 'Verbindung unterbrochen. Ihr Platz bleibt erhalten, wir verbinden Sie neu …',
  'patient.call.dropped': 'Das Gespräch wurde unterbrochen. Sie sind wieder im Warteraum.',
  'patient.phone': 'Telefon der Praxis: {phone}',
  'patient.unknown.practice': 'Praxis',
  'patient.in.call': 'Sprechstunde mit {doctor}',
  'patient.path.direct': 'Direkte Verbindung zur Praxis',
  'patient.path.relay': 'Verbindung über einen Relay-Server – weiterhin Ende-zu-Ende verschlüsselt',
  'patient.e2e': 'Ende-zu-Ende verschlüsselt – nur Sie und die Praxis sehen und hören das Gespräch.',
  'patient.callerr.turn_auth': 'Die Videoverbindung konnte nicht aufgebaut werden: Der Relay-Server hat die Anmeldung abgelehnt. Bitte prüfen Sie Ihre Internetverbindung (z. B. WLAN statt mobiler Daten oder umgekehrt) und lassen Sie diese Seite geöffnet. Wenn es nicht klappt, rufen Sie bitte die Praxis an{phone}.',
  'patient.callerr.ice_failed': 'Die Videoverbindung zur Praxis konnte nicht aufgebaut werden. Bitte prüfen Sie Ihre Internetverbindung (z. B. WLAN statt mobiler Daten oder umgekehrt) und lassen Sie diese Seite geöffnet. Wenn es nicht klappt, rufen Sie bitte die Praxis an{phone}.',
  'patient.callerr.connection_lost': 'Die Verbindung zur Praxis ist abgebrochen und konnte nicht wiederhergestellt werden. Bitte prüfen Sie Ihre Internetverbindung und warten Sie, bis die Praxis Sie erneut aufruft oder sich bei Ihnen meldet. Sie können die Praxis auch anrufen{phone}.',
  'patient.ended.connection_lost': 'Das Gespräch wurde beendet, weil die Verbindung abgebrochen ist.',

  'doctor.heading': 'Videosprechstunde – Ärztin/Arzt',
  'doctor.waiting.title': 'Warteraum',
  'doctor.empty': 'Zurzeit wartet niemand.',
  'doctor.call': 'Aufrufen',
  'doctor.appointment': 'Termin {time}',
  'doctor.any': 'beliebige Ärztin/Arzt',
  'doctor.since': 'wartet seit {mins} Min.',
  'doctor.since.now': 'gerade angekommen',
  'doctor.away': 'Verbindung unterbrochen – kann nicht aufgerufen werden',
  'doctor.ringing': 'Klingelt bei {name} …',
  'doctor.cancel.call': 'Anruf abbrechen',
  'doctor.connecting': 'Verbindung mit {name} wird aufgebaut …',
  'doctor.in.call': 'Im Gespräch mit {name}',
  'doctor.declined': '{name} hat den Anruf abgelehnt.',
  'doctor.patient.away': 'Die Verbindung von {name} ist abgebrochen. Der Anruf wurde beendet.',
  'doctor.ended.patient_hangup': '{name} hat aufgelegt.',
  'doctor.ended.patient_dropped': 'Die Verbindung von {name} ist abgebrochen.',
  'doctor.ended.left': '{name} hat den Warteraum verlassen.',
  'doctor.ended.cancelled': 'Der Termin von {name} wurde abgesagt.',
  'doctor.ended.doctor_hangup': 'Gespräch beendet.',
  'doctor.arrived': 'Neue Patientin/neuer Patient im Warteraum',
  'doctor.notify.enable': 'Benachrichtigungen aktivieren',
  'doctor.logged.in': 'Angemeldet als {name}',
  'doctor.patient': 'Patient/in',
  'doctor.path.direct': 'Direkte Verbindung',
  'doctor.path.relay': 'Über Relay-Server (weitergeleitet, weiterhin verschlüsselt)',
  'doctor.e2e': 'Ende-zu-Ende verschlüsselt',
  'doctor.callerr.turn_auth': 'Die Videoverbindung zu {name} konnte nicht aufgebaut werden: Der TURN-Server hat die Zugangsdaten abgelehnt. Bitte prüfen Sie Ihre Internetverbindung und informieren Sie Ihre IT (TURN-Konfiguration). Legen Sie auf und erreichen Sie die Patientin/den Patienten gegebenenfalls telefonisch.',
  'doctor.callerr.ice_failed': 'Die Videoverbindung zu {name} konnte nicht aufgebaut werden. Bitte prüfen Sie Ihre Internetverbindung. Legen Sie auf und erreichen Sie die Patientin/den Patienten gegebenenfalls telefonisch.',
  'doctor.callerr.connection_lost': 'Die Verbindung zu {name} ist abgebrochen und konnte nicht wiederhergestellt werden. Das Gespräch wurde beendet. Bitte prüfen Sie Ihre Internetverbindung.',
  'doctor.ended.connection_lost': 'Gespräch wegen Verbindungsabbruch beendet.',

  'reception.heading': 'Videosprechstunde – Anmeldung',
  'reception.new': 'Neuen Termin anlegen',
  'reception.doctor': 'Ärztin/Arzt',
  'reception.date': 'Datum',
  'reception.time': 'Uhrzeit',
  'reception.create': 'Termin anlegen',
  'reception.result': 'Termin angelegt',
  'reception.result.link': 'Link für die Patientin/den Patienten',
  'reception.result.code': 'Zugangscode (zum Vorlesen)',
  'reception.result.once': 'Der Code wird nur jetzt angezeigt. Bitte geben Sie ihn jetzt weiter.',
  'reception.copy': 'Link kopieren',
  'reception.copied': 'Kopiert.',
  'reception.today': 'Heutige Termine',
  'reception.col.time': 'Uhrzeit',
  'reception.col.doctor': 'Ärztin/Arzt',
  'reception.col.patient': 'Patient/in',
  'reception.col.status': 'Status',
  'reception.col.action': 'Aktion',
  'reception.cancel': 'Absagen',
  'reception.cancel.confirm': 'Termin um {time} Uhr wirklich absagen?',
  'reception.none': 'Heute keine Termine.',
  'reception.created.at': 'Termin am {date} um {time} Uhr',
  'status.booked': 'Gebucht',
  'status.waiting': 'Im Warteraum',
  'status.away': 'Verbindung unterbrochen',
  'status.ringing': 'Wird aufgerufen',
  'status.in_call': 'Im Gespräch',
  'status.ended': 'Beendet',
  'status.cancelled': 'Abgesagt',

  'err.generic': 'Es ist ein Fehler aufgetreten. Bitte versuchen Sie es erneut.',
  'err.transport': 'Keine Verbindung zum Server. Bitte prüfen Sie Ihre Internetverbindung.',
  'err.disconnected': 'Keine Verbindung zum Server. Bitte prüfen Sie Ihre Internetverbindung.',
  'err.bad_request': 'Ungültige Anfrage.',
  'err.unknown_request': 'Ungültige Anfrage.',
  'err.missing_field': 'Bitte füllen Sie alle Felder aus.',
  'err.invalid_field': 'Eine Eingabe ist ungültig. Bitte prüfen Sie Ihre Angaben.',
  'err.too_long': 'Eine Eingabe ist zu lang.',
  'err.invalid_utf8': 'Eine Eingabe enthält ungültige Zeichen.',
  'err.not_authenticated': 'Bitte melden Sie sich an.',
  'err.forbidden': 'Dafür fehlt die Berechtigung.',
  'err.wrong_state': 'Das ist gerade nicht möglich.',
  'err.login_failed': 'Anmeldung fehlgeschlagen: Benutzername oder Passwort falsch.',
  'err.rate_limited': 'Zu viele Versuche. Bitte warten Sie {secs} Sekunden.',
  'err.code_invalid': 'Der Zugangscode ist ungültig oder gerade nicht gültig (zu früh, zu spät oder abgesagt). Bitte rufen Sie die Praxis an{phone}.',
  'err.not_found': 'Nicht gefunden.',
  'err.practice_not_found': 'Diese Praxis wurde nicht gefunden. Bitte prüfen Sie den Link.',
  'err.already_called': 'Patient wurde bereits von einer Kollegin/einem Kollegen aufgerufen.',
  'err.doctor_busy': 'Sie haben bereits einen Anruf oder ein laufendes Gespräch.',
  'err.patient_away': 'Die Verbindung des Patienten ist unterbrochen. Er/sie kann gerade nicht aufgerufen werden.',
  'err.conflict': 'Dieser Wert ist bereits vergeben.',
  'err.internal': 'Interner Fehler. Bitte versuchen Sie es erneut.',
};

const en = {
  'lang.toggle': 'Deutsch',
  'app.title': 'Video consultation',
  'common.loading': 'Loading …',
  'common.logout': 'Log out',
  'common.username': 'User name',
  'common.password': 'Password',
  'common.login': 'Log in',
  'common.login.title': 'Login for practice staff',
  'common.reconnecting': 'Connection to the server lost. Retrying …',
  'common.connected': 'Connected.',
  'common.terms': 'Terms of use and privacy',
  'common.mute': 'Mute microphone',
  'common.unmute': 'Unmute microphone',
  'common.camera.off': 'Camera off',
  'common.camera.on': 'Camera on',
  'common.hangup': 'Hang up',
  'common.remote.video': 'Video of the other side',
  'common.local.video': 'Your own camera',
  'common.any.doctor': 'Any doctor',
  'common.wrong.role': 'This account cannot use this page.',
  'common.media.denied': 'Camera or microphone could not be used. Please allow access in your browser (lock icon next to the address → camera and microphone "Allow") and try again.',
  'conn.new': 'Connecting …',
  'conn.connecting': 'Connecting …',
  'conn.connected': 'Connected',
  'conn.disconnected': 'Connection unstable – please wait …',
  'conn.failed': 'Connection failed',
  'conn.closed': 'Connection closed',
  'conn.recovering': 'Restoring the connection …',
  'conn.path.unknown': 'Finding the connection path …',
  'conn.path.none': 'Not connected',

  'index.intro': 'Your practice\'s video consultation: secure and direct between you and your doctor.',
  'index.patient': 'Patients',
  'index.patient.text': 'Before your appointment the practice sends you a link with a personal access code by text message or e-mail. Please open that link; there you enter your name and get into the virtual waiting room.',
  'index.doctor': 'Doctors',
  'index.reception': 'Reception',

  'patient.heading': 'Video consultation',
  'patient.intro': 'Please enter your name, accept the terms of use and start the session.',
  'patient.code': 'Access code',
  'patient.code.hint': 'You received the code by text message or e-mail, e.g. ABCD-EFGH-JKMN.',
  'patient.first': 'First name',
  'patient.last': 'Last name',
  'patient.terms.accept': 'I accept the terms of use and have read the privacy notice.',
  'patient.terms.link': 'Read the terms of use',
  'patient.start': 'Start session',
  'patient.missing.name': 'Please enter your first and last name.',
  'patient.missing.terms': 'Please accept the terms of use.',
  'patient.missing.code': 'Please enter your access code.',
  'patient.missing.practice': 'This link is incomplete (practice missing). Please use the link from your text message or e-mail.',
  'patient.joining': 'Signing you in …',
  'patient.waiting.title': 'You are in the virtual waiting room',
  'patient.ahead.0': 'You are next',
  'patient.ahead.1': '1 patient ahead of you',
  'patient.ahead.n': '{n} patients ahead of you',
  'patient.waiting.text': 'Please keep this page open. You will be called as soon as the doctor is ready. Then tap "Accept" and allow camera and microphone.',
  'patient.appointment': 'Your appointment: {time}',
  'patient.leave': 'Leave the waiting room',
  'patient.ringing.title': 'Your doctor is calling',
  'patient.ringing.by': '{doctor} is calling',
  'patient.accept': 'Accept',
  'patient.decline': 'Decline',
  'patient.switch.camera': 'Switch camera',
  'patient.ended.title': 'The consultation has ended.',
  'patient.ended.text': 'The consultation has ended. You can close this page.',
  'patient.ended.self': 'You ended the call. You can close this page.',
  'patient.left': 'You left the waiting room. You can close this page.',
  'patient.doctor.left': 'The connection to the practice was interrupted. You keep your place in the waiting room and will be called again shortly.',
  'patient.ring.cancelled': 'The call ended before you could accept. You keep your place in the waiting room.',
  'patient.declined': 'You declined the call. You keep your place in the waiting room.',
  'patient.taken.over': 'The session was opened in another window. Please use the other window.',
  'patient.visit.cancelled': 'Your appointment was cancelled by the practice.',
  'patient.visit.grace_expired': 'The connection was interrupted for too long and your place has expired. Please open the link again.',
  'patient.visit.other': 'Your session has ended.',
  'patient.reconnecting': 'Connection lost. Your place is kept, reconnecting …',
  'patient.call.dropped': 'The call was interrupted. You are back in the waiting room.',
  'patient.phone': 'Practice phone: {phone}',
  'patient.unknown.practice': 'Practice',
  'patient.in.call': 'Consultation with {doctor}',
  'patient.path.direct': 'Direct connection to the practice',
  'patient.path.relay': 'Connected through a relay server – still end-to-end encrypted',
  'patient.e2e': 'End-to-end encrypted – only you and the practice can see and hear the call.',
  'patient.callerr.turn_auth': 'The video connection could not be set up: the relay server refused the login. Please check your internet connection (e.g. Wi-Fi instead of mobile data or the other way round) and keep this page open. If it does not work, please call the practice{phone}.',
  'patient.callerr.ice_failed': 'The video connection to the practice could not be set up. Please check your internet connection (e.g. Wi-Fi instead of mobile data or the other way round) and keep this page open. If it does not work, please call the practice{phone}.',
  'patient.callerr.connection_lost': 'The connection to the practice dropped and could not be restored. Please check your internet connection and wait until the practice calls you again or gets back to you. You can also call the practice{phone}.',
  'patient.ended.connection_lost': 'The call ended because the connection dropped.',

  'doctor.heading': 'Video consultation – doctor',
  'doctor.waiting.title': 'Waiting room',
  'doctor.empty': 'Nobody is waiting right now.',
  'doctor.call': 'Call in',
  'doctor.appointment': 'Appointment {time}',
  'doctor.any': 'any doctor',
  'doctor.since': 'waiting for {mins} min',
  'doctor.since.now': 'just arrived',
  'doctor.away': 'Connection lost – cannot be called',
  'doctor.ringing': 'Ringing {name} …',
  'doctor.cancel.call': 'Cancel call',
  'doctor.connecting': 'Connecting to {name} …',
  'doctor.in.call': 'In consultation with {name}',
  'doctor.declined': '{name} declined the call.',
  'doctor.patient.away': 'The connection of {name} dropped. The call was stopped.',
  'doctor.ended.patient_hangup': '{name} hung up.',
  'doctor.ended.patient_dropped': 'The connection of {name} dropped.',
  'doctor.ended.left': '{name} left the waiting room.',
  'doctor.ended.cancelled': 'The appointment of {name} was cancelled.',
  'doctor.ended.doctor_hangup': 'Call ended.',
  'doctor.arrived': 'New patient in the waiting room',
  'doctor.notify.enable': 'Enable notifications',
  'doctor.logged.in': 'Logged in as {name}',
  'doctor.patient': 'Patient',
  'doctor.path.direct': 'Direct connection',
  'doctor.path.relay': 'Through a relay server (forwarded, still encrypted)',
  'doctor.e2e': 'End-to-end encrypted',
  'doctor.callerr.turn_auth': 'The video connection to {name} could not be set up: the TURN server refused the credentials. Please check your internet connection and tell your IT (TURN configuration). Hang up and reach the patient by phone if needed.',
  'doctor.callerr.ice_failed': 'The video connection to {name} could not be set up. Please check your internet connection. Hang up and reach the patient by phone if needed.',
  'doctor.callerr.connection_lost': 'The connection to {name} dropped and could not be restored. The call was ended. Please check your internet connection.',
  'doctor.ended.connection_lost': 'Call ended: the connection dropped.',

  'reception.heading': 'Video consultation – reception',
  'reception.new': 'New appointment',
  'reception.doctor': 'Doctor',
  'reception.date': 'Date',
  'reception.time': 'Time',
  'reception.create': 'Create appointment',
  'reception.result': 'Appointment created',
  'reception.result.link': 'Link for the patient',
  'reception.result.code': 'Access code (to read out)',
  'reception.result.once': 'The code is shown only now. Please pass it on now.',
  'reception.copy': 'Copy link',
  'reception.copied': 'Copied.',
  'reception.today': 'Today\'s appointments',
  'reception.col.time': 'Time',
  'reception.col.doctor': 'Doctor',
  'reception.col.patient': 'Patient',
  'reception.col.status': 'Status',
  'reception.col.action': 'Action',
  'reception.cancel': 'Cancel',
  'reception.cancel.confirm': 'Really cancel the appointment at {time}?',
  'reception.none': 'No appointments today.',
  'reception.created.at': 'Appointment on {date} at {time}',
  'status.booked': 'Booked',
  'status.waiting': 'In waiting room',
  'status.away': 'Connection lost',
  'status.ringing': 'Being called',
  'status.in_call': 'In consultation',
  'status.ended': 'Ended',
  'status.cancelled': 'Cancelled',

  'err.generic': 'Something went wrong. Please try again.',
  'err.transport': 'No connection to the server. Please check your internet connection.',
  'err.disconnected': 'No connection to the server. Please check your internet connection.',
  'err.bad_request': 'Invalid request.',
  'err.unknown_request': 'Invalid request.',
  'err.missing_field': 'Please fill in all fields.',
  'err.invalid_field': 'An entry is invalid. Please check your input.',
  'err.too_long': 'An entry is too long.',
  'err.invalid_utf8': 'An entry contains invalid characters.',
  'err.not_authenticated': 'Please log in.',
  'err.forbidden': 'You are not allowed to do this.',
  'err.wrong_state': 'This is not possible right now.',
  'err.login_failed': 'Login failed: wrong user name or password.',
  'err.rate_limited': 'Too many attempts. Please wait {secs} seconds.',
  'err.code_invalid': 'The access code is invalid or not valid right now (too early, too late or cancelled). Please call the practice{phone}.',
  'err.not_found': 'Not found.',
  'err.practice_not_found': 'This practice was not found. Please check the link.',
  'err.already_called': 'The patient has already been called by a colleague.',
  'err.doctor_busy': 'You already have a call ringing or in progress.',
  'err.patient_away': 'The patient\'s connection is interrupted; they cannot be called right now.',
  'err.conflict': 'This value is already taken.',
  'err.internal': 'Internal error. Please try again.',
};

const strings = { de, en };
const listeners = new Set();
let current = detect();

function detect() {
  try {
    const q = new URLSearchParams(location.search).get('lang');
    if (q === 'en' || q === 'de') return q;
  } catch (e) { /* ignore */ }
  return 'de';
}

export function lang() { return current; }

export function t(key, vars) {
  let s = strings[current][key];
  if (s === undefined) s = de[key];
  if (s === undefined) return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined && vars[k] !== null ? String(vars[k]) : ''));
  return s;
}

export function errorText(err, vars = {}) {
  const name = (err && err.error) || 'generic';
  const v = { ...vars };
  if (name === 'rate_limited') v.secs = (err && err.retry_after) || 60;
  const key = 'err.' + name;
  return strings.de[key] ? t(key, v) : t('err.generic');
}

export function applyI18n(root = document) {
  document.documentElement.lang = current;
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  for (const attr of ['placeholder', 'aria-label', 'title']) {
    const data = 'data-i18n-' + attr;
    root.querySelectorAll('[' + data + ']').forEach((el) => { el.setAttribute(attr, t(el.getAttribute(data))); });
  }
}

export function setLang(l) {
  if (!strings[l] || l === current) return;
  current = l;
  try {
    const u = new URL(location.href);
    if (l === 'de') u.searchParams.delete('lang'); else u.searchParams.set('lang', l);
    history.replaceState(history.state, '', u.pathname + u.search + u.hash);
  } catch (e) { /* ignore */ }
  applyI18n();
  for (const fn of listeners) fn(current);
}

export function onLangChange(fn) { listeners.add(fn); }

/** Wires button#lang (if present) and applies the current language. */
export function initLangToggle() {
  applyI18n();
  const btn = document.getElementById('lang');
  if (btn) {
    btn.addEventListener('click', () => setLang(current === 'de' ? 'en' : 'de'));
  }
}

/** Local time HH:MM of a Unix-seconds timestamp. */
export function fmtTime(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleTimeString(current === 'en' ? 'en-GB' : 'de-DE', { hour: '2-digit', minute: '2-digit' });
}

/** Local date of a Unix-seconds timestamp. */
export function fmtDate(unix) {
  const d = new Date(unix * 1000);
  return d.toLocaleDateString(current === 'en' ? 'en-GB' : 'de-DE', { day: '2-digit', month: '2-digit', year: 'numeric' });
}
