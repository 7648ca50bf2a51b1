// Sending the outbox through the JSON API: oldest first, one record at a time,
// each with its own client uuid, so a retry after a lost answer is a replay
// (200), never a second record. A 409 or 422 marks the record refused, with the
// server's message, for the inspector to correct; a network error, a 5xx, 408
// or 429 stops the run, to be tried again.
import { account, outbox, value, values } from "./outbox-util.js";

const TRANSIENT = (status) => status >= 500 || status === 408 || status === 429;

// --------------------------------------------------- form fields → API body

// The date as the form sends it (GovDateField): an ISO date, null when
// nothing was typed, or the typed text, which the server refuses by name.
export function dateValue(parts) {
  const [day = "", month = "", year = ""] = parts.map((part) => part.trim());
  if (!day && !month && !year) return null;
  if ([day, month, year].every((part) => /^\d+$/.test(part))) {
    const d = Number(day), m = Number(month), y = Number(year);
    const date = new Date(Date.UTC(y, m - 1, d));
    if (y >= 1900 && date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d) {
      return `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
    }
  }
  return `${day}/${month}/${year}`;
}

// A select's id as the API takes it: a JSON number (the API refuses "17", which
// only a form may post), null when nothing was chosen, or the text as chosen,
// which the server refuses by name.
export function idValue(text) {
  if (text === null || text.trim() === "") return null;
  return /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : text;
}

const IDS = ["case_id", "agency_id"];

export function apiBody(record) {
  if (record.kind === "event") {
    const bodyOut = { client_uuid: record.uuid, case_ref: record.caseRef, event_date: dateValue(values(record, "event_date")) };
    for (const name of ["agency_id", "practitioner_role", "date_precision", "event_type", "description",
      "source_of_information"]) {
      bodyOut[name] = IDS.includes(name) ? idValue(value(record, name)) : value(record, name);
    }
    for (const flag of ["key_event", "missed_opportunity", "good_practice"]) {
      bodyOut[flag] = values(record, flag).length > 0;
    }
    return bodyOut;
  }
  const bodyOut = { client_uuid: record.uuid, collected_on: dateValue(values(record, "collected_on")),
    submit: value(record, "action") === "submit", criteria: {} };
  for (const name of ["case_id", "agency_id", "activity", "evidence_text", "evaluation_text", "finding_type",
    "impact_on_child"]) {
    bodyOut[name] = IDS.includes(name) ? idValue(value(record, name)) : value(record, name);
  }
  bodyOut.event_ids = values(record, "event_ids").map(idValue);
  for (const code of values(record, "criteria")) {
    bodyOut.criteria[code] = value(record, `relevance-${code}`) || "primary";
  }
  return bodyOut;
}

// ------------------------------------------------------------------ sending

let sending = null;

class Stop extends Error {}

async function session() {
  const response = await fetch("/offline/session", { credentials: "same-origin", cache: "no-store" });
  if (response.status === 401) throw new Stop(`Sign in as ${account} to send them.`);
  if (!response.ok) throw new Stop("The server is not answering; they will be sent when it is.");
  const state = await response.json();
  if (state.account !== account) throw new Stop(`Sign in as ${account} to send them.`);
  return state.csrf_token;
}

async function uploadAttachment(record, token) {
  const form = new FormData();
  form.append("csrf_token", token);
  form.append("file", record.file.blob, record.file.name);
  const response = await fetch(`/findings/${encodeURIComponent(record.publicId)}/attachments`,
    { method: "POST", body: form, credentials: "same-origin" });
  // Stored: the upload redirects to the finding's page (a redirect to sign in is not success).
  if (response.ok && response.redirected && new URL(response.url).pathname === record.sentUrl) return null;
  if (response.ok && response.redirected) throw new Stop(`Sign in as ${account} to send them.`);
  if (TRANSIENT(response.status)) throw new Stop("The server could not take the attachment; it will be sent again.");
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const message = page.querySelector(".govuk-error-message, .govuk-error-summary__list");
  return (message ? message.textContent.replace(/^\s*Error:\s*/, "").trim() : "") ||
    `The server refused the attachment (${response.status}).`;
}

async function sendOne(record, token) {
  if (record.state !== "attachment") {
    const path = record.kind === "event" ? "/api/chronology" : "/api/findings";
    const response = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(apiBody(record)),
    });
    if (response.status === 401) throw new Stop(`Sign in as ${account} to send them.`);
    if (TRANSIENT(response.status)) throw new Stop(`The server answered ${response.status}; they will be sent again.`);
    const answer = await response.json().catch(() => ({}));
    if (response.status === 400 && answer.errors && answer.errors["X-CSRFToken"]) throw new Stop("retry-token");
    if (response.status !== 200 && response.status !== 201) {
      Object.assign(record, { state: "refused", status: response.status,
        message: answer.message || `The server refused it (${response.status}).`, errors: answer.errors || {} });
      await outbox.put(account, record);
      return null;
    }
    record.publicId = answer.public_id || null;
    record.sentUrl = record.publicId ? `/findings/${encodeURIComponent(record.publicId)}`
      : `/cases/${encodeURIComponent(record.caseRef)}#event-${answer.id}`;
    if (!record.file) {
      await outbox.remove(account, record.uuid);
      return record;
    }
    record.state = "attachment";
    await outbox.put(account, record);
  }
  const refusal = await uploadAttachment(record, token);
  if (refusal) {
    Object.assign(record, { state: "refused", status: 422, message: `${record.publicId} is saved, but its attachment ` +
      `was refused: ${refusal}`, errors: {} });
    await outbox.put(account, record);
    return null;
  }
  await outbox.remove(account, record.uuid);
  return record;
}

// The records sent from this page, for the outbox's "Sent" list.
export const sent = [];

async function sendAll() {
  let token = await session();
  for (const record of await outbox.all(account)) {
    if (record.state === "refused") continue;
    let done;
    try {
      done = await sendOne(record, token);
    } catch (error) {
      if (!(error instanceof Stop) || error.message !== "retry-token") throw error;
      token = await session();
      done = await sendOne(record, token);
    }
    if (done) sent.push(done);
  }
}

/** Send what waits, once at a time across this browser's tabs. Resolves with a message for the status line. */
export function sendNow() {
  if (!account) return Promise.resolve("");
  if (sending) return sending;
  const run = async () => {
    try {
      await sendAll();
      return "";
    } catch (error) {
      // A failed fetch is a TypeError: the connection or the server is down.
      if (error instanceof Stop) return error.message;
      return navigator.onLine ? "The server could not be reached; they will be sent when it can."
        : "You are offline: they will be sent when the connection returns.";
    }
  };
  const locked = navigator.locks ? navigator.locks.request(`inspect-kit-send:${account}`, run) : run();
  sending = locked.finally(() => { sending = null; });
  return sending;
}

