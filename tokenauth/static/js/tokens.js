/* The Tokens page: the Add Token dialog, Rotate, and showing a new token exactly once.
 * The raw token lives only in one <input> created for it; closing the dialog (Done, Esc,
 * leaving the page) empties that input and removes it from the DOM. */
(function () {
  "use strict";

  const DAY_MS = 24 * 60 * 60 * 1000;
  const READ_ONLY = "GET /**";

  document.addEventListener("DOMContentLoaded", () => {
    const { api, announce, confirmAction, refreshTable } = window.tokenauth;
    const dialog = document.getElementById("token-dialog");
    const form = document.getElementById("token-form");
    const result = document.getElementById("token-result");
    const addButton = document.getElementById("add-token");
    const nameInput = document.getElementById("token-name");
    const expirySelect = document.getElementById("token-expiry");
    const expiryHelp = document.getElementById("token-expiry-help");
    const dateField = document.getElementById("custom-date-field");
    const dateInput = document.getElementById("token-expiry-date");
    const neverWarning = document.getElementById("never-warning");
    const scopesInput = document.getElementById("token-scopes");
    const readOnlyBox = document.getElementById("token-read-only");
    const routesInput = document.getElementById("token-routes");
    const canaryBox = document.getElementById("token-canary");
    const formError = document.getElementById("token-form-error");
    const saveButton = document.getElementById("token-save");
    const secretSlot = document.getElementById("token-secret-slot");
    const copyButton = document.getElementById("copy-token");
    const copyStatus = document.getElementById("copy-status");
    const maxHelp = expiryHelp.textContent.trim();
    const nameTaken = document.getElementById("token-name-taken");
    // Names of your active tokens, for a hint (names need not be unique; this only warns).
    const activeNames = new Set(JSON.parse(form.dataset.activeNames || "[]").map(nameKey));

    const defaultDays = Number(form.dataset.defaultDays);
    const maxDays = form.dataset.maxDays ? Number(form.dataset.maxDays) : null;
    // Presets count from the server's clock, so a preset at the maximum is never refused
    // because this computer's clock runs ahead.
    const skew = Date.parse(form.dataset.serverNow) - Date.now() || 0;
    let opener = null;

    function isoDate(date) {
      const pad = (n) => String(n).padStart(2, "0");
      return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
    }

    function customDateLimits() {
      const now = new Date(Date.now() + skew);
      dateInput.min = isoDate(new Date(now.getTime() + DAY_MS));
      if (maxDays) dateInput.max = isoDate(new Date(now.getTime() + maxDays * DAY_MS));
    }

    /** The chosen expiration: undefined = the server's default, null = never, else ISO. */
    function chosenExpiry() {
      const choice = expirySelect.value;
      if (choice === "never") return null;
      if (choice === "custom") {
        if (!dateInput.value) throw new Error("Choose an expiration date.");
        const [year, month, day] = dateInput.value.split("-").map(Number);
        return new Date(year, month - 1, day).toISOString(); // the start of that day, your time
      }
      const days = Number(choice);
      if (days === defaultDays) return undefined;
      const when = new Date(Date.now() + skew + days * DAY_MS);
      when.setSeconds(0, 0);
      return when.toISOString();
    }

    function describeExpiry() {
      const choice = expirySelect.value;
      dateField.hidden = choice !== "custom";
      neverWarning.hidden = choice !== "never";
      let text = "";
      if (choice === "custom") {
        text = "The token expires at the start of the chosen day (your time).";
      } else if (choice !== "never") {
        const when = new Date(Date.now() + skew + Number(choice) * DAY_MS);
        text = `The token will expire on ${when.toLocaleDateString(undefined, { dateStyle: "full" })}.`;
      }
      expiryHelp.textContent = [text, maxHelp].filter(Boolean).join(" ");
    }

    function nameKey(name) {
      return name.trim().toLowerCase();
    }

    function checkName() {
      const name = nameInput.value.trim();
      const taken = Boolean(name) && activeNames.has(nameKey(name));
      nameTaken.textContent = taken
        ? `You already have an active token named “${name}”. You can still save; a different name makes them easier to tell apart.`
        : "";
      nameTaken.hidden = !taken;
    }

    function showError(message) {
      formError.textContent = message;
      formError.hidden = !message;
    }

    function openForm() {
      opener = document.activeElement;
      wipeSecret();
      form.reset();
      showError("");
      checkName();
      customDateLimits();
      describeExpiry();
      form.hidden = false;
      result.hidden = true;
      dialog.setAttribute("aria-labelledby", "token-dialog-title");
      dialog.showModal();
      nameInput.focus();
    }

    /** Show a raw token once, whole (it wraps; never cut off), in a read-only text area
     *  made just for it. */
    function showSecret(issued, title) {
      wipeSecret();
      document.getElementById("token-result-title").textContent = title;
      document.getElementById("token-result-name").textContent = issued.name;
      const input = document.createElement("textarea");
      input.id = "new-token-value";
      input.className = "secret";
      input.readOnly = true;
      input.autocomplete = "off";
      input.spellcheck = false;
      input.rows = 2;
      input.setAttribute("aria-describedby", "token-once-warning");
      input.value = issued.token;
      secretSlot.append(input);
      form.hidden = true;
      result.hidden = false;
      dialog.setAttribute("aria-labelledby", "token-result-title");
      if (!dialog.open) dialog.showModal();
      fitSecret();
      input.focus();
      input.select();
    }

    /** Make the token's box as tall as the whole token needs at the current width. */
    function fitSecret() {
      const input = document.getElementById("new-token-value");
      if (!input || !input.offsetParent) return;
      input.style.height = "auto";
      input.style.height = `${input.scrollHeight + input.offsetHeight - input.clientHeight}px`;
    }

    function wipeSecret() {
      const input = document.getElementById("new-token-value");
      if (input) {
        input.value = "";
        input.remove();
      }
      secretSlot.replaceChildren();
      copyStatus.textContent = "";
    }

    async function copySecret() {
      const input = document.getElementById("new-token-value");
      if (!input) return;
      let copied = false;
      if (navigator.clipboard && window.isSecureContext) {
        try {
          await navigator.clipboard.writeText(input.value);
          copied = true;
        } catch (refused) {
          copied = false;
        }
      }
      if (!copied) { // plain http, or the clipboard permission was refused
        input.focus();
        input.select();
        try { copied = document.execCommand("copy"); } catch (unsupported) { copied = false; }
      }
      copyStatus.textContent = copied ? "Copied to the clipboard." : "Press Ctrl+C (⌘C) to copy the selected token.";
      copyStatus.classList.toggle("copy-status--ok", copied);
    }

    async function save(event) {
      event.preventDefault();
      showError("");
      if (!form.reportValidity()) return;
      const payload = { name: nameInput.value.trim() };
      try {
        const expiry = chosenExpiry();
        if (expiry !== undefined) payload.expires_at = expiry;
      } catch (invalid) {
        showError(invalid.message);
        dateInput.focus();
        return;
      }
      const scopes = scopesInput.value.split(/[\s,]+/).filter(Boolean);
      if (scopes.length) payload.scopes = scopes;
      // The read-only preset is one more rule; the server checks every rule (422 names it).
      const routes = routesInput.value.split("\n").map((line) => line.trim()).filter(Boolean);
      if (readOnlyBox.checked) routes.unshift(READ_ONLY);
      if (routes.length) payload.routes = [...new Set(routes)];
      if (canaryBox.checked) payload.canary = true;
      saveButton.disabled = true;
      try {
        showSecret(await api(form.dataset.url, "POST", payload), "Token created");
        activeNames.add(nameKey(payload.name));
        announce(`Token “${payload.name}” was created.`);
        refreshTable();
      } catch (error) {
        showError(error.message);
      } finally {
        saveButton.disabled = false;
      }
    }

    async function rotate(button) {
      const name = button.dataset.name;
      const confirmed = await confirmAction({
        title: "Rotate token?",
        message: `“${name}” gets a new secret and the current one stops working immediately.`,
        confirmLabel: "Rotate",
      });
      if (!confirmed) {
        button.focus();
        return;
      }
      opener = addButton; // the row's button is replaced when the table refreshes
      try {
        showSecret(await api(button.dataset.url, "POST"), "Token rotated");
        announce(`Token “${name}” was rotated; the old secret no longer works.`);
        refreshTable();
      } catch (error) {
        announce(`Could not rotate “${name}”: ${error.message}`);
      }
    }

    addButton.addEventListener("click", openForm);
    expirySelect.addEventListener("change", describeExpiry);
    nameInput.addEventListener("input", checkName);
    form.addEventListener("submit", save);
    copyButton.addEventListener("click", copySecret);
    window.addEventListener("resize", fitSecret);
    // The token leaves the page the moment the dialog closes: Done and Cancel wipe it before
    // closing, Esc in "cancel" (the "close" event itself only comes a task later).
    dialog.querySelectorAll("[data-close-dialog]").forEach((button) => {
      button.addEventListener("click", () => {
        wipeSecret();
        dialog.close();
      });
    });
    dialog.addEventListener("cancel", wipeSecret);
    dialog.addEventListener("close", () => {
      wipeSecret();
      form.reset();
      if (opener && document.contains(opener)) opener.focus();
      else addButton.focus();
    });
    window.addEventListener("pagehide", () => {
      if (dialog.open) dialog.close();
      wipeSecret();
    });
    document.addEventListener("click", (event) => {
      const button = event.target.closest('button[data-action="rotate"]');
      if (button) rotate(button);
    });
  });
})();
