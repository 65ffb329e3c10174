/* tokenauth pages: local times, JSON API calls with the CSRF token, confirmation, revoke.
 * Every URL comes from the page (rendered with url_for), so a path prefix is always kept. */
(function () {
  "use strict";

  const body = document.body;

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  class ApiError extends Error {
    constructor(status, data) {
      super(describeError(status, data));
      this.status = status;
      this.data = data;
    }
  }

  const FIELD_LABELS = { name: "Name", expires_at: "Expiration", scopes: "Scopes",
                         routes: "Route rules", canary: "Canary" };

  function flattenErrors(errors, label, out) {
    if (Array.isArray(errors)) {
      errors.forEach((item) => flattenErrors(item, label, out));
    } else if (errors && typeof errors === "object") {
      Object.entries(errors).forEach(([key, value]) => {
        const named = FIELD_LABELS[key] || (/^\d+$/.test(key) ? label : key);
        flattenErrors(value, named, out);
      });
    } else if (errors) {
      out.push(label ? `${label}: ${errors}` : String(errors));
    }
    return out;
  }

  function describeError(status, data) {
    const details = data && data.errors ? flattenErrors(data.errors.json || data.errors, "", []) : [];
    if (details.length) return details.join(" ");
    if (data && data.message) return `${data.message.charAt(0).toUpperCase()}${data.message.slice(1)}.`;
    return `The server answered ${status}. Please try again.`;
  }

  function loginRedirect() {
    const base = body.dataset.base || "";
    let here = window.location.pathname;
    if (base && here.startsWith(base)) here = here.slice(base.length) || "/";
    const next = encodeURIComponent(here + window.location.search);
    window.location.assign(`${body.dataset.loginUrl}?next=${next}`);
  }

  /** Call the JSON API with the session cookie and the CSRF token. Resolves to the parsed
   *  body (null for 204); rejects with ApiError. A 401 means the session ended: sign in. */
  async function api(url, method, payload) {
    const options = {
      method,
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (networkError) {
      throw new ApiError(0, { message: "the server could not be reached" });
    }
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (notJson) { data = null; }
    }
    if (response.status === 401) {
      loginRedirect();
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  const LOCAL_FORMAT = { dateStyle: "medium", timeStyle: "short" };

  /** Show every <time data-localize> in the browser's zone; the UTC value stays on hover. */
  function localizeTimes(root) {
    (root || document).querySelectorAll("time[data-localize]").forEach((element) => {
      const when = new Date(element.getAttribute("datetime"));
      if (Number.isNaN(when.getTime())) return;
      element.textContent = when.toLocaleString(undefined, LOCAL_FORMAT);
      element.title = `${element.getAttribute("datetime").replace("T", " ").replace("Z", "")} UTC`;
    });
  }

  /** Re-read the table from the server (the same page), so it renders in one place only.
   *  Never rejects: when the page cannot be read (signed out, server gone) it reloads. */
  async function refreshTable() {
    const current = document.getElementById("tokens-table");
    if (!current) return;
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
      if (response.redirected || !response.ok) throw new Error(`status ${response.status}`);
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("tokens-table");
      if (!fresh) throw new Error("no table in the page");
      current.replaceWith(fresh);
      localizeTimes(fresh);
      document.querySelectorAll("[data-refresh][id]").forEach((element) => {
        const update = page.getElementById(element.id); // e.g. the status filter's counts
        if (update) element.replaceWith(update);
      });
    } catch (unreadable) {
      if (!document.querySelector("dialog[open]")) window.location.reload();
    }
  }

  function announce(message) {
    const status = document.getElementById("page-status");
    if (status) status.textContent = message;
  }

  /** Ask in the page's confirmation dialog; resolves true when confirmed. */
  function confirmAction({ title, message, confirmLabel }) {
    const dialog = document.getElementById("confirm-dialog");
    if (!dialog) return Promise.resolve(window.confirm(message));
    dialog.querySelector("#confirm-title").textContent = title;
    dialog.querySelector("#confirm-message").textContent = message;
    dialog.querySelector("#confirm-ok").textContent = confirmLabel;
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
      dialog.showModal();
      dialog.querySelector("#confirm-cancel").focus(); // the safe choice has the focus
    });
  }

  async function revoke(button) {
    const name = button.dataset.name;
    const confirmed = await confirmAction({
      title: "Revoke token?",
      message: `“${name}” will stop working immediately. This cannot be undone.`,
      confirmLabel: "Revoke",
    });
    if (!confirmed) {
      button.focus();
      return;
    }
    try {
      await api(button.dataset.url, "DELETE");
      announce(`Token “${name}” was revoked.`);
      await refreshTable();
    } catch (error) {
      announce(`Could not revoke “${name}”: ${error.message}`);
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest('button[data-action="revoke"]');
    if (button) revoke(button);
  });

  /** A form button with ``data-confirm`` submits only after the confirmation dialog. */
  async function confirmSubmit(button) {
    const confirmed = await confirmAction({
      title: button.dataset.confirmTitle || "Are you sure?",
      message: button.dataset.confirm,
      confirmLabel: button.dataset.confirmLabel || "Confirm",
    });
    if (confirmed) button.form.requestSubmit(button); // keeps the button's name and value
    else button.focus();
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-confirm]");
    if (!button || !button.form) return;
    event.preventDefault();
    confirmSubmit(button);
  });

  document.addEventListener("DOMContentLoaded", () => localizeTimes(document));

  window.tokenauth = { api, ApiError, announce, confirmAction, localizeTimes, refreshTable };
})();
