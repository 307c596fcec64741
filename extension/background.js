// VoIPXS click-to-call: the one place that talks to VoIPXS (a service worker in Chromium, an event page in
// Firefox). A content script hands it a number the user confirmed; it sends exactly {"number": ...} (and
// "from", the id of the own number that rings first, if the user chose one in the options) with the call
// set-up token. No cookies (credentials "omit"), no referrer, nothing of the page, no analytics.
"use strict";

const ext = typeof browser !== "undefined" ? browser : chrome;
const SETUP_PATH = "/api/v1/me/calls/setup/";

function setupUrl(server) {
  return new URL(SETUP_PATH, server).href;
}

function request(settings, init) {
  return fetch(setupUrl(settings.server), Object.assign({
    credentials: "omit",
    referrerPolicy: "no-referrer",
    cache: "no-store",
    redirect: "error",
    mode: "cors",
  }, init, {
    headers: Object.assign({"Authorization": "CallSetup " + settings.token}, init.headers || {}),
  }));
}

function answerText(body, status) {
  if (body && typeof body === "object") {
    if (body.message) { return body.message; }
    if (body.detail) { return body.detail; }
    for (const field of ["number", "from"]) {
      if (Array.isArray(body[field]) && body[field].length) { return body[field][0]; }
    }
  }
  return "HTTP " + status;
}

async function callSetUp(number) {
  const settings = await ext.storage.local.get(["server", "token", "from"]);
  if (!settings.server || !settings.token) {
    return {ok: false, message: ext.i18n.getMessage("notPaired")};
  }
  const body = {number: String(number).slice(0, 64)};
  if (settings.from) { body.from = Number(settings.from); }
  let response;
  try {
    response = await request(settings, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body),
    });
  } catch (error) {
    return {ok: false, message: ext.i18n.getMessage("noConnection")};
  }
  const answer = await response.json().catch(() => ({}));
  return {ok: response.ok, message: answerText(answer, response.status)};
}

async function ownNumbers(settings) {
  const response = await request(settings, {method: "GET"});
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) { throw new Error(answerText(answer, response.status)); }
  return answer;
}

ext.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== ext.runtime.id || !message || typeof message !== "object") { return false; }
  if (message.type === "voipxs-call" && typeof message.number === "string") {
    callSetUp(message.number).then(sendResponse);
    return true;
  }
  if (message.type === "voipxs-numbers" && typeof message.server === "string" && typeof message.token === "string") {
    ownNumbers({server: message.server, token: message.token}).then(
      (numbers) => sendResponse({ok: true, numbers: numbers}),
      (error) => sendResponse({ok: false, message: String(error.message || error)}));
    return true;
  }
  return false;
});
