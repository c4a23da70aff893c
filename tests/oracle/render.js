// Differential oracle for campaign_tools.rendering: handlebars.js 4.7.8 under Node.
// Reads one JSON request per line on stdin and writes one JSON reply per line on stdout:
//   {"template": str, "context": any, "escape": bool, "helpers": bool, "now": ISO string, "uuid": str}
//   -> {"text": str} or {"error": str}
// With "helpers": true it registers JavaScript versions of the Pinpoint helpers whose semantics are
// unambiguous (Handlebars.java StringHelpers/ConditionalHelpers rules, handlebars-helpers inflect and
// ordinalize, plain arithmetic, Base64 and digests, Intl date styles). They are written independently of
// the Python ones so the two implementations check each other.
"use strict";

const crypto = require("crypto");
const readline = require("readline");
const Handlebars = require("handlebars");

// stdout carries the protocol: send anything a template logs ({{log}}) to stderr instead.
for (const level of ["log", "info", "warn", "error", "debug"]) {
  console[level] = (...args) => process.stderr.write(args.map(String).join(" ") + "\n");
}

function isEmpty(value) {
  // Handlebars.java Utils.isEmpty: null, "", empty list and false are empty; 0 and {} are not.
  if (value === null || value === undefined || value === false) return true;
  if (typeof value === "string" || Array.isArray(value)) return value.length === 0;
  return false;
}

function text(value) {
  if (value === null || value === undefined) return "";
  return String(value);
}

function number(value, helper) {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value)) return Number(value);
  throw new Error(helper + ": not a number");
}

function wholeNumber(value, helper) {
  const n = number(value, helper);
  if (!Number.isInteger(n)) throw new Error(helper + ": not a whole number");
  return n;
}

function outcome(truth, options) {
  if (options.fn) return truth ? options.fn(this) : options.inverse(this);
  if (truth) return "yes" in options.hash ? options.hash.yes : true;
  return "no" in options.hash ? options.hash.no : false;
}

function sameType(a, b) {
  return typeof a === typeof b && Array.isArray(a) === Array.isArray(b);
}

function compare(a, b, helper) {
  const ok = (typeof a === "number" && typeof b === "number") || (typeof a === "string" && typeof b === "string") ||
    (typeof a === "boolean" && typeof b === "boolean");
  if (!ok) throw new Error(helper + " cannot compare");
  return a < b ? -1 : a > b ? 1 : 0;
}

function isJavaWhitespace(ch) {
  // Java Character.isWhitespace: space separators except no-break spaces, plus tab..CR and U+001C..U+001F.
  if (/[\t\n\u000B\f\r\u001C-\u001F]/.test(ch)) return true;
  return /[\p{Zs}\p{Zl}\p{Zp}]/u.test(ch) && !/[\u00A0\u2007\u202F]/.test(ch);
}

function pad(count, padText) {
  if (count <= 0) return "";
  return padText.repeat(Math.floor(count / padText.length) + 1).slice(0, count);
}

function stringHelper(apply) {
  // Handlebars.java StringHelpers.apply: an empty value prints the first extra argument, or nothing.
  return function (...args) {
    const options = args.pop();
    const value = args[0];
    if (isEmpty(value)) return args.length > 1 ? text(args[1]) : "";
    return apply(text(Array.isArray(value) ? value.join(",") : value), args.slice(1), options);
  };
}

function size(rest, options, helper) {
  // size=N (Handlebars.java) or the first argument ({{ljust Location.City 15}} in Pinpoint's docs).
  if ("size" in options.hash) return wholeNumber(options.hash.size, helper);
  if (rest.length > 0) return wholeNumber(rest[0], helper);
  throw new Error(helper + " needs a width");
}

function padText(options) {
  const p = "pad" in options.hash ? text(options.hash.pad) : " ";
  return p === "" ? " " : p;
}

function toDate(value) {
  if (typeof value === "number") return new Date(value);
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(value + "T00:00:00Z");
  if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return new Date(value + "Z");
  return new Date(value);
}

function formatStyle(date, style, locale, tz) {
  if (!["full", "long", "medium", "short"].includes(style)) throw new Error("pattern not supported by the oracle");
  return new Intl.DateTimeFormat(locale.replace("_", "-"), { dateStyle: style, timeZone: tz }).format(date);
}

function registerPinpointHelpers(hb, request) {
  const binary = (name, op) => hb.registerHelper(name, (a, b, options) => {
    if (options === undefined) throw new Error(name + " takes two values");
    // Pinpoint's documented results: at most 8 decimal places ({{divide 5 2.3}} is 2.17391304).
    return Number(op(number(a, name), number(b, name)).toFixed(8));
  });
  binary("add", (a, b) => a + b);
  binary("subtract", (a, b) => a - b);
  binary("multiply", (a, b) => a * b);
  binary("divide", (a, b) => { if (b === 0) throw new Error("division by zero"); return a / b; });
  binary("modulo", (a, b) => { if (b === 0) throw new Error("division by zero"); return a % b; });
  hb.registerHelper("ceiling", (a) => Math.ceil(number(a, "ceiling")));
  hb.registerHelper("floor", (a) => Math.floor(number(a, "floor")));
  hb.registerHelper("round", (a) => Math.floor(number(a, "round") + 0.5));
  hb.registerHelper("encode64", (a) => Buffer.from(text(a), "utf8").toString("base64"));
  hb.registerHelper("decode64", (a) => Buffer.from(text(a), "base64").toString("utf8"));
  for (const algorithm of ["md5", "sha256", "sha512"]) {
    hb.registerHelper(algorithm, (a) => crypto.createHash(algorithm).update(text(a), "utf8").digest("hex"));
  }
  hb.registerHelper("uuid", () => request.uuid);

  hb.registerHelper("eq", function (a, b, options) { return outcome.call(this, sameType(a, b) && a === b, options); });
  hb.registerHelper("neq", function (a, b, options) { return outcome.call(this, !(sameType(a, b) && a === b), options); });
  hb.registerHelper("gt", function (a, b, options) { return outcome.call(this, compare(a, b, "gt") > 0, options); });
  hb.registerHelper("gte", function (a, b, options) { return outcome.call(this, compare(a, b, "gte") >= 0, options); });
  hb.registerHelper("lt", function (a, b, options) { return outcome.call(this, compare(a, b, "lt") < 0, options); });
  hb.registerHelper("lte", function (a, b, options) { return outcome.call(this, compare(a, b, "lte") <= 0, options); });
  hb.registerHelper("and", function (...args) {
    const options = args.pop();
    return outcome.call(this, args.every((v) => !isEmpty(v)), options);
  });
  hb.registerHelper("or", function (...args) {
    const options = args.pop();
    return outcome.call(this, args.some((v) => !isEmpty(v)), options);
  });
  hb.registerHelper("not", function (a, options) { return outcome.call(this, isEmpty(a), options); });

  hb.registerHelper("upper", stringHelper((s) => s.toUpperCase()));
  hb.registerHelper("lower", stringHelper((s) => s.toLowerCase()));
  hb.registerHelper("capitalizeFirst", stringHelper((s) => s.charAt(0).toUpperCase() + s.slice(1)));
  hb.registerHelper("capitalize", stringHelper((s, rest, options) => {
    const base = options.hash.fully === true ? s.toLowerCase() : s;
    let startOfWord = true;
    let out = "";
    for (const ch of base) {
      out += startOfWord ? ch.toUpperCase() : ch;
      startOfWord = isJavaWhitespace(ch);
    }
    return out;
  }));
  hb.registerHelper("cut", stringHelper((s, rest) => {
    const target = rest.length > 0 && typeof rest[0] !== "object" ? text(rest[0]) : " ";
    return target === "" ? s : s.split(target).join("");
  }));
  hb.registerHelper("replace", stringHelper((s, rest) => {
    if (typeof rest[0] !== "string" || typeof rest[1] !== "string") throw new Error("replace needs two strings");
    return rest[0] === "" ? s : s.split(rest[0]).join(rest[1]);
  }));
  hb.registerHelper("stripTags", stringHelper((s) => s.replace(/<[^>]*>/g, "")));
  hb.registerHelper("abbreviate", stringHelper((s, rest) => {
    if (rest.length < 1) throw new Error("abbreviate needs a width");
    const width = wholeNumber(rest[0], "abbreviate");
    if (width < 4) throw new Error("width must be at least 4");
    const chars = Array.from(s);
    return chars.length <= width ? s : chars.slice(0, width - 3).join("") + "...";
  }));
  hb.registerHelper("ljust", stringHelper((s, rest, o) => s + pad(size(rest, o, "ljust") - Array.from(s).length, padText(o))));
  hb.registerHelper("rjust", stringHelper((s, rest, o) => pad(size(rest, o, "rjust") - Array.from(s).length, padText(o)) + s));
  hb.registerHelper("center", stringHelper((s, rest, o) => {
    const width = size(rest, o, "center");
    const missing = width - Array.from(s).length;
    if (missing <= 0) return s;
    const left = pad(Math.floor(missing / 2), padText(o)) + s;
    return left + pad(width - Array.from(left).length, padText(o));
  }));
  hb.registerHelper("substring", stringHelper((s, rest) => {
    if (rest.length < 1) throw new Error("substring needs a start");
    const chars = Array.from(s);
    const start = wholeNumber(rest[0], "substring");
    const end = rest.length > 1 ? wholeNumber(rest[1], "substring") : chars.length;
    if (start < 0 || end > chars.length || start > end) throw new Error("substring out of range");
    return chars.slice(start, end).join("");
  }));
  hb.registerHelper("join", function (...args) {
    const options = args.pop();
    if (args.length === 0 || isEmpty(args[0])) return "";
    const separator = args[args.length - 1];
    if (args.length < 2 || typeof separator !== "string") throw new Error("join needs a separator");
    const items = Array.isArray(args[0]) ? args[0] : args.slice(0, -1);
    return text(options.hash.prefix) + items.map(text).join(separator) + text(options.hash.suffix);
  });
  hb.registerHelper("yesno", (value, options) => {
    if (options === undefined) { options = value; value = undefined; }
    if (typeof value === "string") {
      // Endpoint attributes are strings: "true"/"false" in any case are the booleans, "" is no value.
      const word = value.trim().toLowerCase();
      if (word === "true") value = true;
      else if (word === "false") value = false;
      else if (word === "") value = null;
    }
    if (value === null || value === undefined) return "maybe" in options.hash ? options.hash.maybe : "maybe";
    if (typeof value !== "boolean") throw new Error("yesno expects a boolean");
    if (value) return "yes" in options.hash ? options.hash.yes : "yes";
    return "no" in options.hash ? options.hash.no : "no";
  });
  hb.registerHelper("inflect", (count, singular, plural, ...rest) => {
    const options = rest.pop();
    const n = number(count, "inflect");
    const word = n > 1 || n === 0 ? plural : singular;
    const include = "includeCount" in options.hash ? options.hash.includeCount : rest[0];
    return include === true ? text(count) + " " + text(word) : text(word);
  });
  hb.registerHelper("ordinalize", (value) => {
    const n = Math.abs(Math.round(number(value, "ordinalize")));
    const suffix = [11, 12, 13].includes(n % 100) ? "th" : ({ 1: "st", 2: "nd", 3: "rd" })[n % 10] || "th";
    return text(value) + suffix;
  });
  hb.registerHelper("dateFormat", (...args) => {
    const options = args.pop();
    if (isEmpty(args[0])) return args.length > 1 ? text(args[1]) : "";
    const style = args.length > 1 ? text(args[1]) : text(options.hash.format || "medium");
    const locale = args.length > 2 ? text(args[2]) : "en_US";
    return formatStyle(toDate(args[0]), style, locale, text(options.hash.tz || "UTC"));
  });
  hb.registerHelper("now", (...args) => {
    const options = args.pop();
    const style = args.length > 0 ? text(args[0]) : text(options.hash.format || "medium");
    const locale = args.length > 1 ? text(args[1]) : "en_US";
    return formatStyle(new Date(request.now), style, locale, text(options.hash.tz || "UTC"));
  });
}

function render(request) {
  const hb = Handlebars.create();
  if (request.helpers) registerPinpointHelpers(hb, request);
  const template = hb.compile(request.template, { noEscape: request.escape === false });
  return template(request.context);
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  let reply;
  try {
    reply = { text: render(JSON.parse(line)) };
  } catch (err) {
    reply = { error: String(err && err.message ? err.message : err) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
