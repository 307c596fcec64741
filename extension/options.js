// Options: pairing with VoIPXS (portal address and call set-up token) and the own number that rings first.
"use strict";

const ext = typeof browser !== "undefined" ? browser : chrome;
const form = document.getElementById("pairing");
const server = document.getElementById("server");
const token = document.getElementById("token");
const from = document.getElementById("from");
const status = document.getElementById("status");

document.querySelectorAll("[data-i18n]").forEach((element) => {
  const text = ext.i18n.getMessage(element.getAttribute("data-i18n"));
  if (text) { element.textContent = text; }
});

function say(key, ok, extra) {
  status.textContent = ext.i18n.getMessage(key) + (extra ? " " + extra : "");
  status.className = ok ? "ok" : "error";
}

function serverOrigin(text) {
  let url;
  try { url = new URL(text.trim()); } catch (error) { return ""; }
  const local = url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]";
  if (url.protocol !== "https:" && !(url.protocol === "http:" && local)) { return ""; }
  return url.origin;
}

function addNumber(value, label) {
  const option = document.createElement("option");
  option.value = String(value);
  option.textContent = label;
  from.appendChild(option);
  return option;
}

async function load() {
  const saved = await ext.storage.local.get(["server", "token", "from", "fromLabel"]);
  // Reading the storage is asynchronous: what the person typed meanwhile stays (it was blanked before).
  server.value = server.value || saved.server || "";
  token.value = token.value || saved.token || "";
  if (saved.from) { addNumber(saved.from, saved.fromLabel || String(saved.from)).selected = true; }
  document.documentElement.dataset.loaded = "true";
}

document.getElementById("load-numbers").addEventListener("click", async () => {
  const origin = serverOrigin(server.value);
  if (!origin) { say("serverInvalid", false); return; }
  const answer = await ext.runtime.sendMessage({type: "voipxs-numbers", server: origin, token: token.value.trim()});
  if (!answer || !answer.ok) { say("numbersFailed", false, answer ? answer.message : ""); return; }
  const chosen = from.value;
  while (from.options.length > 1) { from.remove(1); }
  answer.numbers.forEach((number) => {
    addNumber(number.id, number.label ? number.number + " (" + number.label + ")" : number.number);
  });
  from.value = chosen;
  say("numbersLoaded", true);
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const origin = serverOrigin(server.value);
  if (!origin) { say("serverInvalid", false); return; }
  if (!/^vxc_[A-Za-z0-9_-]{20,}$/.test(token.value.trim())) { say("tokenInvalid", false); return; }
  const option = from.selectedOptions[0];
  await ext.storage.local.set({
    server: origin,
    token: token.value.trim(),
    from: from.value || "",
    fromLabel: from.value && option ? option.textContent : "",
  });
  server.value = origin;
  say("saved", true);
});

load();
