// inspect_kit's service worker: the intake app on site without a
// connection. Hand-written rather than Workbox: it needs three strategies
// (cache-first for our static files, network-first for an allow-list of pages,
// and "keep the form in the outbox" when a posted form cannot reach the server),
// about 150 lines; workbox-sw served locally would mean fetching and serving
// six Workbox packages at build time for the same result.
//
// One worker per account: the page registers /sw.js?account=NAME, so signing
// in as someone else installs another worker, whose caches are named for that
// account and which deletes every other account's caches when it takes over.
// A page is cached only when the server says it was rendered for this
// account (the X-Inspect-Kit-Account header), never a sign-in page.
/* global InspectKitOutbox */
"use strict";

importScripts("/static/outbox-store.js");

var ACCOUNT = new URL(self.location.href).searchParams.get("account") || "";
var VERSION = "v2";  // v2: the outbox sends a finding's cited events; the case type-ahead script is cached
var PREFIX = "inspect-kit:";
var PAGES = PREFIX + ACCOUNT + ":pages:" + VERSION;
var STATIC = PREFIX + ACCOUNT + ":static:" + VERSION;
var STATIC_FILES = [
  "/static/govuk-frontend/govuk-frontend.min.css",
  "/static/govuk-frontend/govuk-frontend.min.js",
  "/static/app.css",
  "/static/app.js",
  "/static/accessible-autocomplete/accessible-autocomplete.min.js",
  "/static/accessible-autocomplete/accessible-autocomplete.min.css",
  "/static/outbox-store.js",
  "/static/outbox.js",
  "/static/outbox-util.js",
  "/static/outbox-send.js",
  "/static/outbox-list.js",
  "/static/outbox-form.js",
  "/static/finding-events.js",
  "/manifest.webmanifest",
];
var REFERENCE = "/offline/reference.json";
// The pages kept for offline use; everything else (findings lists, a finding's
// page, QA, alerts, admin, Datasette under /data/, the API) goes to the network
// and is never stored here.
var CACHED_PAGES = [/^\/$/, /^\/findings\/new$/, /^\/cases$/, /^\/cases\/[^/]+\/events\/new$/, /^\/offline\/outbox$/];

var EVENT_FORM = /^\/cases\/[^/]+\/events\/new$/;
// Every case's event form is the same page but for the case's reference, which
// outbox.js writes in: one copy serves them all.
var EVENT_FORM_KEY = "/cases/-/events/new";

function cachedPage(path) {
  return CACHED_PAGES.some(function (pattern) { return pattern.test(path); });
}

function cacheKey(path) {
  return EVENT_FORM.test(path) ? EVENT_FORM_KEY : path;
}

function forThisAccount(response) {
  return response && response.status === 200 && response.type === "basic" && !response.redirected &&
    !response.headers.get("X-Inspect-Kit-Flashed") &&
    decodeURIComponent(response.headers.get("X-Inspect-Kit-Account") || "") === ACCOUNT;
}

// Background fetches say so: the server then keeps any one-time message
// ("… has been submitted for QA") for the page the inspector opens next.
var PREFETCH = { credentials: "same-origin", cache: "no-store", headers: { "X-Inspect-Kit-Prefetch": "1" } };

// Set when the account signs out (a "forget" message): a page or refresh still
// in flight must not write the caches back after they were deleted.
var forgotten = false;
var lastRefresh = 0;
var REFRESH_EVERY_MS = 10 * 60 * 1000;

function keep(cacheName, path, response) {
  if (forgotten) {
    return Promise.resolve();
  }
  return caches.open(cacheName).then(function (cache) {
    return forgotten ? null : cache.put(cacheKey(path), response);
  });
}

// Fetch the pages of the allow-list for this account (the reference list names
// them, one event form per case); a page that fails is fetched on the next visit.
function refresh() {
  lastRefresh = Date.now();
  return fetch(REFERENCE, PREFETCH).then(function (response) {
    if (!forThisAccount(response)) {
      return null;
    }
    var copy = response.clone();
    return response.json().then(function (reference) {
      var pages = (reference.pages || []).filter(cachedPage);
      return Promise.all([keep(PAGES, REFERENCE, copy)].concat(pages.map(function (path) {
        return fetch(path, PREFETCH).then(function (page) {
          return forThisAccount(page) ? keep(PAGES, path, page) : null;
        }).catch(function () { return null; });
      })));
    });
  }).catch(function () { return null; });
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(STATIC)
      .then(function (cache) {
        return Promise.all(STATIC_FILES.map(function (path) {
          return cache.add(path).catch(function () { return null; });
        }));
      })
      .then(refresh)
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf(PREFIX) === 0 && name !== PAGES && name !== STATIC;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("message", function (event) {
  var type = event.data && event.data.type;
  if (type === "refresh" && !forgotten && Date.now() - lastRefresh > REFRESH_EVERY_MS) {
    lastRefresh = Date.now();
    event.waitUntil(refresh());
  } else if (type === "forget") {
    forgotten = true;
  }
});

// A page from the cache says so (data-ik-served="cache"), so that a form opened
// from it takes a new client uuid: the cached copy's uuid was made once, when
// it was cached, and two records typed offline must not share it.
function fromCache(response) {
  return response.text().then(function (html) {
    var headers = new Headers(response.headers);
    return new Response(html.replace('data-ik-served="network"', 'data-ik-served="cache"'),
                        { status: 200, headers: headers });
  });
}

function offlinePage() {
  var html = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Offline – inspect_kit</title>' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>' +
    "<main><h1>You are offline</h1><p>This page is not kept on this device. " +
    'Findings and events you record offline are kept in the <a href="/offline/outbox">outbox</a>; ' +
    'go back to the <a href="/">dashboard</a>.</p></main></body></html>';
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function page(request, path) {
  return fetch(request).then(function (response) {
    if (forThisAccount(response)) {
      keep(PAGES, path, response.clone());
    }
    return response;
  }).catch(function () {
    return caches.open(PAGES).then(function (cache) {
      return cache.match(cacheKey(path));
    }).then(function (cached) {
      if (!cached) {
        return request.mode === "navigate" ? offlinePage() : Response.error();
      }
      return request.mode === "navigate" ? fromCache(cached) : cached;
    });
  });
}

function staticFile(request, path) {
  return caches.open(STATIC).then(function (cache) {
    return cache.match(path).then(function (cached) {
      var fresh = fetch(request).then(function (response) {
        if (response.ok && response.type === "basic") {
          cache.put(path, response.clone());
        }
        return response;
      });
      if (cached) {
        fresh.catch(function () { return null; });  // offline: the cached copy serves
        return cached;
      }
      return fresh;
    });
  });
}

// A form posted while the network or the server fails (a network error, a 5xx
// or 507): keep it in this account's outbox, exactly as typed, and show the
// outbox instead of the browser's error page. A 4xx answer (a 422 with the
// field errors) is the server's to show, as without the worker.
function postedForm(event, what) {
  var copy = event.request.clone();
  return fetch(event.request).then(function (response) {
    if (response.status < 500) {
      return response;
    }
    return keepPosted(copy, what, response);
  }, function () {
    return keepPosted(copy, what, null);
  });
}

function keepPosted(copy, what, failure) {
  return copy.formData().then(function (formData) {
    var record = InspectKitOutbox.fromFormData(formData, what.kind, what.caseRef);
    if (!record.uuid) {
      return failure || Response.error();
    }
    record.reason = failure ? "The server answered " + failure.status + "." : "The connection failed.";
    return InspectKitOutbox.put(ACCOUNT, record).then(function () {
      return Response.redirect("/offline/outbox?saved=" + encodeURIComponent(record.uuid), 303);
    });
  }).catch(function () {
    return failure || Response.error();
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || !ACCOUNT) {
    return;
  }
  if (request.method === "POST" && request.mode === "navigate") {
    var what = InspectKitOutbox.kindOfPath(url.pathname);
    if (what) {
      event.respondWith(postedForm(event, what));
    }
    return;
  }
  if (request.method !== "GET") {
    return;
  }
  if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/manifest.webmanifest") {
    event.respondWith(staticFile(request, url.pathname));
  } else if (url.pathname === REFERENCE || (request.mode === "navigate" && cachedPage(url.pathname))) {
    event.respondWith(page(request, url.pathname));
  }
});
