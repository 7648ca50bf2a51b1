// The outbox's storage: one IndexedDB database per account, one row per
// record, keyed by its client uuid. A classic script (not a module) so that the
// service worker can importScripts() it as well as the pages.
//
// A row: {uuid, kind: "finding" | "event", caseRef, fields: [[name, value], …]
// (the form's fields exactly as typed, in the form's order), file: {name, type,
// size, blob} | null, savedAt, updatedAt, state: "waiting" | "refused" |
// "attachment", status, message, errors, publicId}.
(function (scope) {
  "use strict";

  var VERSION = 1;
  var STORE = "records";

  function databaseName(account) {
    return "inspect-kit-outbox:" + account;
  }

  function promised(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function open(account) {
    if (!account) {
      return Promise.reject(new Error("No account: the outbox belongs to a signed-in account."));
    }
    var request = scope.indexedDB.open(databaseName(account), VERSION);
    request.onupgradeneeded = function () {
      var store = request.result.createObjectStore(STORE, { keyPath: "uuid" });
      store.createIndex("savedAt", "savedAt");
    };
    return promised(request);
  }

  function withStore(account, mode, work) {
    return open(account).then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result;
        Promise.resolve(work(tx.objectStore(STORE))).then(function (value) { result = value; }, reject);
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        tx.onabort = function () { db.close(); reject(tx.error || new Error("The outbox could not be written.")); };
      });
    });
  }

  var outbox = {
    /** Every record, oldest first. */
    all: function (account) {
      return withStore(account, "readonly", function (store) {
        return promised(store.index("savedAt").getAll());
      });
    },
    get: function (account, uuid) {
      return withStore(account, "readonly", function (store) {
        return promised(store.get(uuid));
      });
    },
    /** Add or replace a record; a replaced record keeps its place in the queue. */
    put: function (account, record) {
      return withStore(account, "readwrite", function (store) {
        return promised(store.get(record.uuid)).then(function (existing) {
          var now = new Date().toISOString();
          record.savedAt = (existing && existing.savedAt) || record.savedAt || now;
          record.updatedAt = now;
          return promised(store.put(record));
        });
      });
    },
    remove: function (account, uuid) {
      return withStore(account, "readwrite", function (store) {
        return promised(store.delete(uuid));
      });
    },
    count: function (account) {
      return withStore(account, "readonly", function (store) {
        return promised(store.count());
      });
    },
    /** A record from a form's fields as posted (FormData entries), without the file. */
    fromFormData: function (formData, kind, caseRef) {
      var fields = [];
      var file = null;
      formData.forEach(function (value, name) {
        if (name === "csrf_token") {
          return;  // a session's token: the sender asks for a fresh one
        }
        if (typeof value === "string") {
          fields.push([name, value]);
        } else if (value && value.size) {
          file = { name: value.name, type: value.type, size: value.size, blob: value };
        }
      });
      var uuid = "";
      fields.forEach(function (pair) { if (pair[0] === "client_uuid") { uuid = pair[1]; } });
      return { uuid: uuid, kind: kind, caseRef: caseRef || null, fields: fields, file: file,
               state: "waiting", status: null, message: null, errors: {}, publicId: null };
    },
    /** Which record a form's URL records: {kind, caseRef} or null. */
    kindOfPath: function (path) {
      if (path === "/findings/new") {
        return { kind: "finding", caseRef: null };
      }
      var match = /^\/cases\/([^/]+)\/events\/new$/.exec(path);
      return match ? { kind: "event", caseRef: decodeURIComponent(match[1]) } : null;
    },
  };

  scope.InspectKitOutbox = outbox;
})(self);
