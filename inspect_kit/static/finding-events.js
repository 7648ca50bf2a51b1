// Progressive enhancement of the finding form: the list of chronology events to cite follows the
// chosen case. When the case changes, the form is posted as its "Show the chosen case's events"
// button posts it (the server saves nothing) and only the list is replaced from the answer, so
// nothing typed moves and the markup stays the server's. Without JavaScript, or when the post
// fails (offline), the button does the same with a page load.
const form = document.getElementById("finding-form");
const select = form && form.querySelector("select[name='case_id']");

function status() {
  let region = document.getElementById("event_ids-status");
  if (!region) {
    region = document.createElement("p");
    region.id = "event_ids-status";
    region.className = "govuk-visually-hidden";
    region.setAttribute("aria-live", "polite");
    document.getElementById("event_ids-group").before(region);
  }
  return region;
}

async function follow() {
  const data = new FormData(form);
  data.set("action", "events");
  let response;
  try {
    // Not form.action: the form's buttons are named "action" and shadow the property.
    response = await fetch(form.getAttribute("action") || location.href, { method: "POST", body: data, credentials: "same-origin" });
  } catch {
    return;
  }
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("event_ids-group");
  const current = document.getElementById("event_ids-group");
  if (!fresh || !current) return;
  const region = status();
  current.replaceWith(document.importNode(fresh, true));
  const count = document.querySelectorAll("#event_ids-group input[name='event_ids']").length;
  region.textContent = count ? `${count} events of the chosen case listed to cite.` : "No events to cite.";
}

if (select && document.getElementById("event_ids-group")) {
  select.addEventListener("change", follow);
}
