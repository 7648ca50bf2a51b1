// The offline outbox (issue 13). Progressive enhancement only: without this
// script the forms post exactly as they always did.
//
// - Registers the account's service worker (sw.js) and shows "N records
//   waiting to send" on every page.
// - A finding or event saved with no connection (or with a file chosen, or
//   opened from the outbox) is kept in IndexedDB, exactly as typed, under its
//   client uuid; the worker does the same for a form whose post fails.
// - Sends the outbox through the JSON API when the connection returns, on
//   demand and every RETRY_MS while records wait: oldest first, one at a time,
//   each with its own uuid, so a retry after a lost answer is a replay (200),
//   never a second record. A 409 or 422 brings the record back to its form
//   with the server's message.
/* global InspectKitOutbox */

const outbox = self.InspectKitOutbox;
const body = document.body;
const account = body.dataset.ikAccount || "";
const RETRY_MS = 20_000;
const ACCEPTED_TYPES = { "application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg" };
const TRANSIENT = (status) => status >= 500 || status === 408 || status === 429;

// ------------------------------------------------------------ small helpers

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

// As the server words it (attachments.human_size): "10 MB", "9.54 MB", "100 KB".
function humanSize(bytes) {
  if (bytes >= 1024 * 1024) return `${Number((bytes / (1024 * 1024)).toPrecision(3))} MB`;
  return `${Math.max(1, Math.floor(bytes / 1024))} KB`;
}

function when(iso) {
  const date = new Date(iso);
  return date.toLocaleString("en-GB", { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
}

function values(record, name) {
  return record.fields.filter(([key]) => key === name).map(([, value]) => value);
}

function value(record, name) {
  const found = values(record, name);
  return found.length ? found[0] : null;
}

function formPath(record) {
  const path = record.kind === "event" ? `/cases/${encodeURIComponent(record.caseRef)}/events/new` : "/findings/new";
  return `${path}?outbox=${encodeURIComponent(record.uuid)}`;
}

function recordText(record) {
  return value(record, record.kind === "event" ? "description" : "evidence_text") || "";
}

function recordTitle(record) {
  if (record.kind === "event") return `Chronology event for ${record.caseRef}`;
  return value(record, "action") === "submit" ? "Evidence record (to submit for QA)" : "Evidence record (draft)";
}

function newUuid() {
  return self.crypto.randomUUID();
}

// --------------------------------------------------- form fields → API body

// The date as the form sends it (GovDateField): an ISO date, null when
// nothing was typed, or the typed text, which the server refuses by name.
function dateValue(parts) {
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

function apiBody(record) {
  if (record.kind === "event") {
    const bodyOut = { client_uuid: record.uuid, case_ref: record.caseRef, event_date: dateValue(values(record, "event_date")) };
    for (const name of ["agency_id", "practitioner_role", "date_precision", "event_type", "description",
      "source_of_information"]) {
      bodyOut[name] = value(record, name);
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
    bodyOut[name] = value(record, name);
  }
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
const sent = [];

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
function sendNow() {
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
  return sending.then(async (message) => { await refreshViews(message); return message; });
}

// ------------------------------------------------------ the status and list

async function refreshViews(message) {
  const records = await outbox.all(account);
  showStatus(records);
  if (document.getElementById("ik-outbox")) renderOutbox(records, message);
}

function showStatus(records) {
  const region = document.getElementById("ik-outbox-status");
  if (!region) return;
  const refused = records.filter((record) => record.state === "refused").length;
  const waiting = records.length - refused;
  region.replaceChildren();
  if (!records.length) {
    region.hidden = true;
    return;
  }
  const parts = [];
  if (waiting) parts.push(`${plural(waiting, "record", "records")} waiting to send`);
  if (refused) parts.push(`${plural(refused, "record needs", "records need")} your attention`);
  region.append(element("p", { className: "govuk-body govuk-!-margin-bottom-0", id: "ik-outbox-count" },
    element("strong", { text: parts.join("; ") }), " ",
    element("a", { className: "govuk-link", href: "/offline/outbox", text: "Open the outbox" })));
  region.hidden = false;
}

function renderOutbox(records, message) {
  const list = document.getElementById("ik-outbox");
  const status = document.getElementById("ik-send-status");
  if (status) {
    status.textContent = message || (records.length ? (navigator.onLine ? "" :
      "You are offline: they will be sent when the connection returns.") : "");
  }
  list.replaceChildren();
  if (sent.length) {
    list.append(element("h2", { className: "govuk-heading-m", text: "Sent from this page" }),
      element("ul", { className: "govuk-list", id: "ik-outbox-sent" }, ...sent.map((record) => element("li", {},
        element("a", { className: "govuk-link", href: record.sentUrl,
          text: record.publicId || `Event for ${record.caseRef}` }),
        ` – ${recordText(record).slice(0, 80)}${recordText(record).length > 80 ? "…" : ""}`))));
  }
  if (!records.length) {
    list.append(element("p", { className: "govuk-body", id: "ik-outbox-empty",
      text: "Nothing is waiting: everything recorded on this device has been sent." }));
    return;
  }
  for (const record of records) list.append(recordCard(record));
}

function recordCard(record) {
  const refused = record.state === "refused";
  const tag = refused ? element("strong", { className: "govuk-tag govuk-tag--red", text: "Needs your attention" })
    : element("strong", { className: "govuk-tag govuk-tag--yellow", text:
      record.state === "attachment" ? "Saved; attachment waiting" : "Waiting to send" });
  const rows = element("dl", { className: "govuk-summary-list" });
  const row = (key, content) => rows.append(element("div", { className: "govuk-summary-list__row" },
    element("dt", { className: "govuk-summary-list__key", text: key }),
    element("dd", { className: "govuk-summary-list__value" }, content)));
  row("Status", tag);
  row("Saved on this device", when(record.savedAt));
  row(record.kind === "event" ? "What happened" : "Evidence",
    element("span", { className: "ik-pre ik-outbox-text", text: recordText(record) }));
  if (record.file) row("Attachment", `${record.file.name} (${humanSize(record.file.size)})`);
  if (record.publicId) row("Saved as", record.publicId);
  if (refused) {
    const said = Object.values(record.errors || {}).join("; ") || record.message;
    row("Server’s message", element("span", { className: "ik-outbox-message", text: said }));
  }
  const label = record.kind === "event" ? `the event for ${record.caseRef}` : "this evidence record";
  // A record the server has stored (its attachment waits, or was refused) is changed on its own page,
  // where a file can be attached again; here it can only be discarded.
  const open = record.publicId && record.sentUrl
    ? element("a", { className: "govuk-link", href: record.sentUrl }, "View",
      element("span", { className: "govuk-visually-hidden", text: ` ${label}` }))
    : element("a", { className: "govuk-link ik-outbox-open", href: formPath(record) },
      refused ? "Correct" : "Open", element("span", { className: "govuk-visually-hidden", text: ` ${label}` }));
  const actions = element("ul", { className: "govuk-summary-card__actions" },
    element("li", { className: "govuk-summary-card__action" }, open),
    element("li", { className: "govuk-summary-card__action" },
      element("button", { type: "button", className: "govuk-link ik-link-button ik-outbox-discard",
        "data-uuid": record.uuid }, "Discard", element("span", { className: "govuk-visually-hidden", text: ` ${label}` }))));
  const title = element("h2", { className: "govuk-summary-card__title", text: recordTitle(record) });
  return element("div", { className: "govuk-summary-card ik-outbox-record", id: `record-${record.uuid}`,
    "data-uuid": record.uuid },
    element("div", { className: "govuk-summary-card__title-wrapper" }, title, actions),
    element("div", { className: "govuk-summary-card__content" }, rows));
}

function confirmDiscard(button) {
  const uuid = button.dataset.uuid;
  const card = document.getElementById(`record-${uuid}`);
  if (!card || card.querySelector(".ik-discard-confirm")) return;
  const yes = element("button", { type: "button", className: "govuk-button govuk-button--warning",
    id: `discard-${uuid}`, text: "Discard it" });
  const no = element("button", { type: "button", className: "govuk-button govuk-button--secondary", text: "Keep it" });
  const box = element("div", { className: "govuk-summary-card__content ik-discard-confirm" },
    element("p", { className: "govuk-body", text: "This deletes the record from this device. It has not been sent " +
      "and cannot be recovered." }),
    element("div", { className: "govuk-button-group" }, yes, no));
  card.append(box);
  yes.focus();
  yes.addEventListener("click", async () => {
    await outbox.remove(account, uuid);
    await refreshViews("The record was discarded.");
  });
  no.addEventListener("click", () => { box.remove(); button.focus(); });
}

// ---------------------------------------------------------------- the forms

function fillForm(form, record) {
  const byName = new Map();
  for (const [name, fieldValue] of record.fields) {
    if (!byName.has(name)) byName.set(name, []);
    byName.get(name).push(fieldValue);
  }
  const seen = new Map();
  for (const field of form.elements) {
    const name = field.name;
    if (!name || name === "csrf_token" || field.type === "submit" || field.type === "file") continue;
    const posted = byName.get(name) || [];
    if (field.type === "checkbox" || field.type === "radio") {
      field.checked = posted.includes(field.value);
      showConditional(field);
    } else if (field.tagName === "SELECT" && field.multiple) {
      for (const option of field.options) option.selected = posted.includes(option.value);
    } else {
      const index = seen.get(name) || 0;
      seen.set(name, index + 1);
      field.value = posted[index] ?? "";
    }
  }
}

// GOV.UK checkboxes and radios reveal their conditional part on a click; a
// field filled in by script shows or hides it the same way (a criterion's relevance).
function showConditional(field) {
  const target = document.getElementById(field.getAttribute("aria-controls") || "");
  if (!target) return;
  const kind = field.type === "radio" ? "radios" : "checkboxes";
  target.classList.toggle(`govuk-${kind}__conditional--hidden`, !field.checked);
  field.setAttribute("aria-expanded", String(field.checked));
}

function fieldAnchor(form, name) {
  const byId = document.getElementById(name) || document.getElementById(`${name}-day`);
  if (byId && form.contains(byId)) return byId;
  if (["key_event", "missed_opportunity", "good_practice"].includes(name)) return document.getElementById("flags");
  return null;
}

function showServerErrors(form, record) {
  const items = [];
  for (const [name, message] of Object.entries(record.errors || {})) {
    const anchor = fieldAnchor(form, name);
    items.push({ text: message, href: anchor ? `#${anchor.id}` : "#main-content" });
    const group = anchor && anchor.closest(".govuk-form-group");
    if (group && !group.querySelector(".govuk-error-message")) {
      group.classList.add("govuk-form-group--error");
      const after = group.querySelector(".govuk-hint") || group.querySelector("legend, label");
      const note = element("p", { className: "govuk-error-message", id: `${anchor.id}-offline-error` },
        element("span", { className: "govuk-visually-hidden", text: "Error:" }), ` ${message}`);
      if (after) after.after(note); else group.prepend(note);
    }
  }
  // Field errors are listed (each linked to its field); a refusal without them (a 409) is said in words.
  const intro = items.length ? null : element("p", { className: "govuk-body", text: record.message });
  const list = items.length ? element("ul", { className: "govuk-list govuk-error-summary__list" },
    ...items.map((item) => element("li", {}, element("a", { href: item.href, text: item.text })))) : null;
  const summary = element("div", { className: "govuk-error-summary", id: "ik-outbox-refused", tabindex: "-1" },
    element("div", { role: "alert" },
      element("h2", { className: "govuk-error-summary__title", text: "The server could not accept this record" }),
      element("div", { className: "govuk-error-summary__body" }, intro, list)));
  // At the top of the page's column, where the server puts its own error summary.
  const column = form.closest(".govuk-grid-column-two-thirds-from-desktop");
  if (column) column.prepend(summary); else form.before(summary);
  summary.focus();
  document.title = `Error: ${document.title.replace(/^Error: /, "")}`;
}

function addFileField(form, record) {
  const limit = Number(form.dataset.ikMaxBytes || 0);
  const hint = `A PDF, PNG or JPEG smaller than ${humanSize(limit)}. It is uploaded after the record is saved.` +
    (record && record.file ? ` Waiting with this record: ${record.file.name} (${humanSize(record.file.size)}); ` +
      "choose another file to replace it." : "");
  const input = element("input", { className: "govuk-file-upload", id: "ik-attachment", type: "file",
    accept: ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg", "aria-describedby": "ik-attachment-hint" });
  const group = element("div", { className: "govuk-form-group", id: "ik-attachment-group" },
    element("label", { className: "govuk-label govuk-label--s", for: "ik-attachment", text: "Attach a file (optional)" }),
    element("div", { className: "govuk-hint", id: "ik-attachment-hint", text: hint }), input);
  form.querySelector(".govuk-button-group").before(group);
  return { input, group, limit };
}

function fileError(file, limit) {
  if (file.size > limit) return `The selected file must be smaller than ${humanSize(limit)}`;
  const name = file.name.toLowerCase();
  if (!ACCEPTED_TYPES[file.type] && !/\.(pdf|png|jpe?g)$/.test(name)) return "The selected file must be a PDF, PNG or JPEG";
  return null;
}

function showFileError(attachment, message) {
  const { group, input } = attachment;
  group.classList.add("govuk-form-group--error");
  group.querySelector(".govuk-error-message")?.remove();
  input.before(element("p", { className: "govuk-error-message", id: "ik-attachment-error" },
    element("span", { className: "govuk-visually-hidden", text: "Error:" }), ` ${message}`));
  input.setAttribute("aria-describedby", "ik-attachment-hint ik-attachment-error");
  input.focus();
}

// The worker keeps one event form for every case: the copy opened offline names
// the case it was cached for, so write in the case of this page's address.
function showCase(cachedRef, caseRef) {
  document.title = document.title.replace(cachedRef, caseRef);
  for (const node of document.querySelectorAll(".govuk-caption-l, .govuk-back-link")) {
    node.textContent = node.textContent.replace(cachedRef, caseRef);
  }
  const back = document.querySelector(".govuk-back-link");
  if (back) back.href = `/cases/${encodeURIComponent(caseRef)}`;
  document.querySelector("form[data-ik-outbox]").dataset.ikCaseRef = caseRef;
}

async function enhanceForm(form) {
  const what = outbox.kindOfPath(location.pathname);
  if (!what) return;
  if (what.kind === "event" && form.dataset.ikCaseRef && form.dataset.ikCaseRef !== what.caseRef) {
    showCase(form.dataset.ikCaseRef, what.caseRef);
  }
  const opened = new URLSearchParams(location.search).get("outbox");
  let record = opened ? await outbox.get(account, opened) : null;
  const uuidField = form.querySelector("input[name=client_uuid]");
  if (record) {
    fillForm(form, record);
    const note = element("div", { className: "govuk-inset-text", id: "ik-outbox-note" },
      `This record was saved on this device on ${when(record.savedAt)} and has not been sent. ` +
      "Saving puts your changes back in the outbox.");
    form.before(note);
    if (record.state === "refused") showServerErrors(form, record);
  } else if (body.dataset.ikServed === "cache" && uuidField) {
    // The cached copy of the form was made once; each record typed from it needs its own id.
    uuidField.value = newUuid();
  }
  const attachment = what.kind === "finding" ? addFileField(form, record) : null;

  let bypass = false;
  form.addEventListener("submit", async (event) => {
    const file = attachment && attachment.input.files[0];
    if (bypass || (navigator.onLine && !record && !file)) return;  // the plain form post, as without JavaScript
    event.preventDefault();
    if (file) {
      const problem = fileError(file, attachment.limit);
      if (problem) {
        showFileError(attachment, problem);
        return;
      }
    }
    const kept = outbox.fromFormData(new FormData(form, event.submitter), what.kind, what.caseRef);
    kept.file = file ? { name: file.name, type: file.type, size: file.size, blob: file } : (record ? record.file : null);
    if (record && record.state === "refused" && record.status === 409) {
      // The server holds other content under this uuid: what was typed here becomes a new record.
      kept.uuid = newUuid();
      kept.fields = kept.fields.map(([name, fieldValue]) => [name, name === "client_uuid" ? kept.uuid : fieldValue]);
    }
    try {
      if (record && record.uuid !== kept.uuid) {
        await outbox.remove(account, record.uuid);
      } else if (record) {
        kept.savedAt = record.savedAt;
      }
      await outbox.put(account, kept);
    } catch {
      // The browser refuses to store (private browsing, no space): keep the page as it is.
      if (navigator.onLine && !file) {
        bypass = true;
        form.requestSubmit(event.submitter);
        return;
      }
      showStorageProblem(form);
      return;
    }
    location.assign(`/offline/outbox?saved=${encodeURIComponent(kept.uuid)}`);
  });
}

function showStorageProblem(form) {
  document.getElementById("ik-storage-problem")?.remove();
  const box = element("div", { className: "govuk-error-summary", id: "ik-storage-problem", tabindex: "-1" },
    element("div", { role: "alert" },
      element("h2", { className: "govuk-error-summary__title", text: "This record could not be kept on this device" }),
      element("div", { className: "govuk-error-summary__body" },
        element("p", { className: "govuk-body", text: "The browser would not store it (private browsing, or the " +
          "device is full). What you typed is still in the form: keep this page open and save again when the " +
          "connection returns." }))));
  form.before(box);
  box.focus();
}

// ------------------------------------------------------------------ sign out

function guardSignOut(form) {
  let confirmed = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!navigator.onLine) {
      // Signing out needs the server; removing the offline copy now would leave nothing to work with.
      showSignOutNote("You are offline: sign out when the connection returns. Until then this device keeps " +
        "your pages and any records waiting to send.");
      return;
    }
    const count = await outbox.count(account).catch(() => 0);
    if (count && !confirmed) {
      if (document.getElementById("ik-signout-warning")) return;
      const keep = element("button", { type: "button", className: "govuk-button govuk-button--warning",
        id: "ik-signout-anyway", text: "Sign out; keep them on this device" });
      const outboxLink = element("a", { className: "govuk-link", href: "/offline/outbox", text: "Go to the outbox" });
      const warning = element("div", { className: "govuk-warning-text ik-signout-warning", id: "ik-signout-warning",
        role: "alert", tabindex: "-1" },
        element("span", { className: "govuk-warning-text__icon", "aria-hidden": "true", text: "!" }),
        element("div", { className: "govuk-warning-text__text" },
          element("span", { className: "govuk-visually-hidden", text: "Warning" }),
          `${plural(count, "record is", "records are")} waiting to send from this device. They stay here for your ` +
          "account only, and are sent the next time you sign in on this device while connected.",
          element("div", { className: "govuk-button-group govuk-!-margin-top-2" }, keep, outboxLink)));
      document.getElementById("main-content").prepend(warning);
      warning.focus();
      keep.addEventListener("click", () => { confirmed = true; form.requestSubmit(); });
      return;
    }
    await forgetDevice();
    form.submit();
  });
}

function showSignOutNote(text) {
  document.getElementById("ik-signout-offline")?.remove();
  const note = element("div", { className: "govuk-inset-text", id: "ik-signout-offline", role: "alert",
    tabindex: "-1", text });
  document.getElementById("main-content").prepend(note);
  note.focus();
}

/** Remove this browser's worker and cached pages (the outbox itself stays, for the account). */
async function forgetDevice() {
  if (!("serviceWorker" in navigator)) return;
  try {
    const registrations = await navigator.serviceWorker.getRegistrations();
    for (const registration of registrations) {
      for (const worker of [registration.active, registration.waiting, registration.installing]) {
        worker?.postMessage({ type: "forget" });
      }
    }
    await Promise.all(registrations.map((registration) => registration.unregister()));
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith("inspect-kit:")).map((name) => caches.delete(name)));
  } catch {
    // Storage blocked by the browser: nothing was kept either.
  }
}

// --------------------------------------------------------------------- start

async function start() {
  if (!account) {
    // Signed out, or an account that does not record: no worker, no cached pages.
    if (body.dataset.ikOffline === "off") await forgetDevice();
    return;
  }
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register(`/sw.js?account=${encodeURIComponent(account)}`, { scope: "/" })
      .then((registration) => {
        if (body.dataset.ikServed === "network" && location.pathname === "/" && registration.active) {
          registration.active.postMessage({ type: "refresh" });  // new cases since the worker was installed
        }
      })
      .catch(() => {});
  }
  const signOut = document.querySelector("form.ik-signout");
  if (signOut) guardSignOut(signOut);
  const form = document.querySelector("form[data-ik-outbox]");
  if (form) await enhanceForm(form);
  if (document.getElementById("ik-outbox")) {
    const saved = new URLSearchParams(location.search).get("saved");
    if (saved) document.getElementById("ik-saved-banner")?.removeAttribute("hidden");
    document.getElementById("ik-send-now")?.addEventListener("click", () => {
      document.getElementById("ik-send-status").textContent = "Sending…";
      sendNow();
    });
    document.getElementById("ik-outbox").addEventListener("click", (event) => {
      const button = event.target.closest(".ik-outbox-discard");
      if (button) confirmDiscard(button);
    });
  }
  await refreshViews();
  window.addEventListener("online", () => sendNow());
  window.addEventListener("offline", () => refreshViews());
  setInterval(async () => {
    if (navigator.onLine && (await outbox.count(account))) sendNow();
  }, RETRY_MS);
  if (navigator.onLine && (await outbox.count(account))) sendNow();
}

start();
