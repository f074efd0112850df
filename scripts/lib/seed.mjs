// seed.mjs - create a practice and its staff through the admin API.
//
// Contract: seedPractice(janus, {slug, name, phone, doctors, receptions})
// calls add_practice and add_staff (role doctor / reception) on a running
// Janus from startJanus() and resolves with {practiceId, slug, name, phone,
// doctors: [{...input, id}], receptions: [{...input, id}]}. Throws on any
// reply that is not ok:true, naming the request and error (never the password).

export async function adminOk(janus, request) {
  const reply = await janus.admin(request);
  if (!reply || reply.ok !== true) {
    throw new Error(`admin ${request.request} failed: ${reply?.error} (${reply?.error_code}) ${reply?.reason ?? ''}`);
  }
  return reply;
}

export async function seedPractice(janus, { slug, name, phone, doctors = [], receptions = [] }) {
  const practice = await adminOk(janus, { request: 'add_practice', slug, name, ...(phone ? { phone } : {}) });
  const addStaff = async (s, role) => {
    const r = await adminOk(janus, {
      request: 'add_staff', practice: slug, username: s.username,
      display_name: s.display_name, role, password: s.password,
    });
    return { ...s, role, id: r.staff_id };
  };
  const out = { practiceId: practice.practice_id, slug, name, phone, doctors: [], receptions: [] };
  for (const d of doctors) out.doctors.push(await addStaff(d, 'doctor'));
  for (const r of receptions) out.receptions.push(await addStaff(r, 'reception'));
  return out;
}
