// The new-finding and new-event forms with the outbox: a record saved with no
// connection (or with a file chosen, or opened from the outbox) is kept on the
// device exactly as typed; one opened from the outbox is filled back in, with
// the server's message when it was refused; a file field for findings.
import { account, element, humanSize, newUuid, outbox, when } from "./outbox-util.js";

const ACCEPTED_TYPES = { "application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg" };

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

export async function enhanceForm(form) {
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
  } else if (document.body.dataset.ikServed === "cache" && uuidField) {
    // The cached copy of the form was made once; each record typed from it needs its own id.
    uuidField.value = newUuid();
  }
  const attachment = what.kind === "finding" ? addFileField(form, record) : null;

  let bypass = false;
  form.addEventListener("submit", async (event) => {
    const file = attachment && attachment.input.files[0];
    if (bypass || (navigator.onLine && !record && !file)) return;  // the plain form post, as without JavaScript
    // "Show the chosen case's events" saves nothing: it is the plain post (it needs the server).
    if (event.submitter && event.submitter.value === "events") return;
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

