// The outbox's views: "N records waiting to send" on every page, and the
// outbox page's list, where each record can be opened or discarded.
import { sent } from "./outbox-send.js";
import { account, element, formPath, humanSize, outbox, plural, recordText, recordTitle, when } from "./outbox-util.js";

// ------------------------------------------------------ the status and list

export async function refreshViews(message) {
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

export function confirmDiscard(button) {
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

