// The offline outbox. Progressive enhancement only: without this
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
//
// This module starts it all; outbox-form.js, outbox-send.js and outbox-list.js
// do each part, outbox-util.js holds what they share and outbox-store.js
// (a classic script, shared with the worker) the IndexedDB storage.
import { enhanceForm } from "./outbox-form.js";
import { confirmDiscard, refreshViews } from "./outbox-list.js";
import { sendNow } from "./outbox-send.js";
import { account, element, outbox, plural } from "./outbox-util.js";

const body = document.body;
const RETRY_MS = 20_000;

/** Send what waits, then show the outcome. */
function send() {
  return sendNow().then(async (message) => { await refreshViews(message); return message; });
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
    document.getElementById("ik-send-now")?.removeAttribute("hidden");
    document.getElementById("ik-send-now")?.addEventListener("click", () => {
      document.getElementById("ik-send-status").textContent = "Sending…";
      send();
    });
    document.getElementById("ik-outbox").addEventListener("click", (event) => {
      const button = event.target.closest(".ik-outbox-discard");
      if (button) confirmDiscard(button);
    });
  }
  await refreshViews();
  window.addEventListener("online", () => send());
  window.addEventListener("offline", () => refreshViews());
  setInterval(async () => {
    if (navigator.onLine && (await outbox.count(account))) send();
  }, RETRY_MS);
  if (navigator.onLine && (await outbox.count(account))) send();
}

start();
