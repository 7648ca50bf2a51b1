// Shared by the outbox's modules (outbox.js is the entry): the account whose
// outbox this page shows, and small helpers for building the views.
/* global InspectKitOutbox */

export const outbox = self.InspectKitOutbox;
export const account = document.body.dataset.ikAccount || "";

// ------------------------------------------------------------ small helpers

export function element(tag, attributes = {}, ...children) {
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

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

// As the server words it (attachments.human_size): "10 MB", "9.54 MB", "100 KB".
export function humanSize(bytes) {
  if (bytes >= 1024 * 1024) return `${Number((bytes / (1024 * 1024)).toPrecision(3))} MB`;
  return `${Math.max(1, Math.floor(bytes / 1024))} KB`;
}

export function when(iso) {
  const date = new Date(iso);
  return date.toLocaleString("en-GB", { day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
}

export function values(record, name) {
  return record.fields.filter(([key]) => key === name).map(([, value]) => value);
}

export function value(record, name) {
  const found = values(record, name);
  return found.length ? found[0] : null;
}

export function formPath(record) {
  const path = record.kind === "event" ? `/cases/${encodeURIComponent(record.caseRef)}/events/new` : "/findings/new";
  return `${path}?outbox=${encodeURIComponent(record.uuid)}`;
}

export function recordText(record) {
  return value(record, record.kind === "event" ? "description" : "evidence_text") || "";
}

export function recordTitle(record) {
  if (record.kind === "event") return `Chronology event for ${record.caseRef}`;
  return value(record, "action") === "submit" ? "Evidence record (to submit for QA)" : "Evidence record (draft)";
}

export function newUuid() {
  return self.crypto.randomUUID();
}

