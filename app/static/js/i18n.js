// The capture's own words in the volunteer's language, offline too: English is written in the
// code, other languages are dictionaries keyed by the English (locale-es.js). The language is
// the one the server chose for the account (the offline pack's user.language), else the
// browser's. A missing translation falls back to English, never to a blank.
import { ES } from "./locale-es.js";

const CATALOGS = { es: ES };
let current = "en";

export function browserLanguage() {
  for (const tag of navigator.languages || [navigator.language || "en"]) {
    const code = String(tag).toLowerCase().split("-")[0];
    if (code === "en" || CATALOGS[code]) return code;
  }
  return "en";
}

export function setLanguage(code) {
  current = CATALOGS[code] ? code : "en";
  document.documentElement.lang = current;
  return current;
}

export function language() {
  return current;
}

/** `text` in the current language, its {name} placeholders filled from `values`. */
export function t(text, values) {
  const catalog = CATALOGS[current];
  const translated = (catalog && catalog[text]) || text;
  return values ? translated.replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match)) : translated;
}

/** The singular or plural message for `n` ({n} is filled in). */
export function tn(n, one, many, values = {}) {
  return t(n === 1 ? one : many, { n, ...values });
}
