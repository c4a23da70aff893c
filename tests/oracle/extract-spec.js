// Extract the rendering cases of handlebars.js's own spec suite into a JSON corpus for the differential tests.
//
//   node tests/oracle/extract-spec.js SPEC_DIR > tests/campaign_tools/rendering/handlebars_spec_corpus.json
//
// SPEC_DIR holds the spec/*.js files of handlebars.js at the version this oracle pins (v4.7.8), e.g.
//   for f in $(git --git-dir=HBS_GIT ls-tree --name-only v4.7.8 spec/ | grep '\.js$'); do
//     git --git-dir=HBS_GIT show v4.7.8:$f > SPEC_DIR/$(basename $f); done
//
// The spec files run under a stub of their harness (describe / it / beforeEach, expectTemplate, shouldCompileTo,
// shouldCompileToWithPartials, shouldThrow): every template they check is recorded with its input, what it needs
// (helpers, partials, decorators, compile or runtime options) and the expected text or error. Each case is then
// rendered by the installed handlebars.js; `oracle` records that result (it must equal `expected`).
// A case is in scope when a Pinpoint template could express it: the input is JSON data (plain objects, arrays,
// strings, finite numbers, booleans, null) and it uses no custom helpers, registered partials, decorators or
// compile/runtime options. The rule is applied here, mechanically, and stored with each case as `out_of_scope`
// (the reasons) so the Python side never re-decides it.
"use strict";

const fs = require("fs");
const path = require("path");
const Handlebars = require("handlebars");

const specDir = process.argv[2];
if (!specDir) {
  process.stderr.write("usage: node extract-spec.js SPEC_DIR\n");
  process.exit(2);
}
// Files that test the parser's AST, the precompiler, source maps or module loading: no template renders there.
const SKIPPED_FILES = new Set([
  "ast.js", "compiler.js", "javascript-compiler.js", "parser.js", "precompiler.js", "require.js",
  "source-map.js", "spec.js", "tokenizer.js", "utils.js", "visitor.js",
]);

// ---- a permissive stand-in for chai and sinon: spec bodies call them between the checks we record ----
function permissive() {
  const fn = function () { return proxy; };
  const proxy = new Proxy(fn, { get: (target, key) => (key === Symbol.toPrimitive ? () => "" : proxy), apply: () => proxy });
  return proxy;
}
global.expect = () => permissive();
global.sinon = permissive();
global.equals = global.equal = () => {};
global.shouldThrow = (callback) => { try { callback(); } catch (err) { /* recorded through the bench if any */ } };
global.Handlebars = Handlebars;
global.CompilerContext = {
  compile: (template, options) => global.handlebarsEnv.compile(template, options),
  compileWithPartial: (template, options) => global.handlebarsEnv.compile(template, options),
};

// ---- a minimal mocha: suites with beforeEach/afterEach hooks and tests, run in order ----
const root = { title: "", parent: null, before: [], after: [], children: [] };
let current = root;
global.describe = (title, body) => {
  const suite = { title, parent: current, before: [], after: [], children: [] };
  current.children.push(suite);
  const saved = current;
  current = suite;
  try { body.call({ timeout() {} }); } finally { current = saved; }
};
global.describe.skip = () => {};
global.it = (title, body) => { current.children.push({ title, body, parent: current }); };
global.it.skip = global.xit = () => {};
global.beforeEach = (hook) => { current.before.push(hook); };
global.afterEach = (hook) => { current.after.push(hook); };

const cases = [];
let running = null; // {file, title, count}
const titlesSeen = new Map(); // a test title used twice in one file gets " (2)", so every case id is unique

function ancestry(node) {
  const chain = [];
  for (let suite = node.parent; suite; suite = suite.parent) chain.unshift(suite);
  return chain;
}

// ---- what makes a case out of scope ----
function jsonIssue(value, where, seen = new Set()) {
  if (value === null || typeof value === "string" || typeof value === "boolean") return null;
  if (typeof value === "number") return Number.isFinite(value) ? null : `${where} is not a finite number`;
  if (value === undefined) return `${where} is undefined`;
  if (typeof value !== "object") return `${where} is a ${typeof value}`;
  if (seen.has(value)) return `${where} is circular`;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) return `${where} has a hole`;
      const issue = jsonIssue(value[i], `${where}[${i}]`, seen);
      if (issue) return issue;
    }
    return null;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
    return `${where} is not a plain object`;
  }
  if (Object.getOwnPropertySymbols(value).length) return `${where} has symbol keys`;
  for (const key of Object.keys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    if (descriptor.get || descriptor.set) return `${where}.${key} is a getter`;
    const issue = jsonIssue(value[key], `${where}.${key}`, seen);
    if (issue) return issue;
  }
  return null;
}

const DEFAULT_HELPERS = new Set(Object.keys(Handlebars.create().helpers));
const DEFAULT_DECORATORS = new Set(Object.keys(Handlebars.create().decorators));

function scopeIssues(c, env) {
  const issues = [];
  const inputIssue = jsonIssue(c.input, "input");
  if (inputIssue) issues.push(`data: ${inputIssue}`);
  if (Object.keys(c.helpers).length) issues.push(`custom helpers: ${Object.keys(c.helpers).join(", ")}`);
  const global = Object.keys(env.helpers).filter((name) => !DEFAULT_HELPERS.has(name));
  if (global.length) issues.push(`custom helpers: ${global.join(", ")}`);
  if (Object.keys(c.partials).length || Object.keys(env.partials).length) issues.push("registered partials");
  const decorators = Object.keys(env.decorators).filter((name) => !DEFAULT_DECORATORS.has(name));
  if (Object.keys(c.decorators).length || decorators.length) issues.push("decorators");
  if (c.compileOptions && Object.keys(c.compileOptions).length) {
    issues.push(`compile options: ${Object.keys(c.compileOptions).join(", ")}`);
  }
  if (c.runtimeOptions && Object.keys(c.runtimeOptions).length) {
    issues.push(`runtime options: ${Object.keys(c.runtimeOptions).join(", ")}`);
  }
  return issues;
}

function renderWithHandlebars(c) {
  const env = global.handlebarsEnv;
  try {
    const template = env.compile(c.template, c.compileOptions);
    const runtime = Object.assign({}, c.runtimeOptions, {
      helpers: c.helpers, partials: c.partials, decorators: c.decorators,
    });
    return { text: template(c.input, runtime) };
  } catch (err) {
    return { error: String(err && err.message ? err.message : err) };
  }
}

function record(c, expected) {
  const env = global.handlebarsEnv;
  const out = scopeIssues(c, env);
  const entry = {
    id: `${running.title} #${running.count++}`,
    template: c.template,
    input: out.some((issue) => issue.startsWith("data:")) ? null : c.input,
    expected,
    out_of_scope: out,
  };
  if (!out.length) entry.oracle = renderWithHandlebars(c);
  cases.push(entry);
}

// ---- the two harness styles the spec files use ----
class Bench {
  constructor(template) {
    Object.assign(this, {
      template, input: {}, helpers: {}, partials: {}, decorators: {}, compileOptions: {}, runtimeOptions: {},
    });
  }
  withInput(input) { this.input = input; return this; }
  withHelper(name, fn) { this.helpers[name] = fn; return this; }
  withHelpers(map) { Object.assign(this.helpers, map); return this; }
  withPartial(name, text) { this.partials[name] = text; return this; }
  withPartials(map) { Object.assign(this.partials, map); return this; }
  withDecorator(name, fn) { this.decorators[name] = fn; return this; }
  withDecorators(map) { Object.assign(this.decorators, map); return this; }
  withCompileOptions(options) { this.compileOptions = options; return this; }
  withRuntimeOptions(options) { this.runtimeOptions = options; return this; }
  withMessage() { return this; }
  toCompileTo(text) { record(this, { text }); }
  toThrow() { record(this, { error: true }); }
}
global.expectTemplate = (template) => new Bench(template);

function legacyCase(template, hashOrArray, partials) {
  const c = new Bench(template);
  if (hashOrArray && hashOrArray.hash) {
    const { hash, ...rest } = hashOrArray;
    c.input = hash;
    Object.assign(c.helpers, rest.helpers || {});
    Object.assign(c.partials, rest.partials || {});
  } else if (Array.isArray(hashOrArray)) {
    c.input = hashOrArray[0];
    Object.assign(c.helpers, hashOrArray[1] || {});
    Object.assign(c.partials, hashOrArray[2] || {});
    const options = hashOrArray[3];
    if (typeof options === "object" && options !== null) c.compileOptions = options;
    else if (options !== undefined && options !== null) c.compileOptions = { compat: options };
    if (hashOrArray[4] != null) c.compileOptions = Object.assign({}, c.compileOptions, { data: !!hashOrArray[4] });
  } else {
    c.input = hashOrArray;
  }
  if (partials) Object.assign(c.partials, partials);
  return c;
}
global.shouldCompileTo = (template, hashOrArray, expected) => {
  record(legacyCase(template, hashOrArray), { text: expected });
};
global.shouldCompileToWithPartials = (template, hashOrArray, partials, expected) => {
  record(legacyCase(template, hashOrArray, partials), { text: expected });
};
global.compileWithPartials = (template, hashOrArray, partials) => {
  const c = legacyCase(template, hashOrArray, partials);
  const result = renderWithHandlebars(c);
  return result.text;
};

// ---- load every spec file, then run its tests ----
const files = fs.readdirSync(specDir).filter((name) => name.endsWith(".js") && !SKIPPED_FILES.has(name)).sort();
for (const file of files) {
  const fileRoot = { title: file, parent: root, before: [], after: [], children: [] };
  root.children.push(fileRoot);
  current = fileRoot;
  require(path.resolve(specDir, file));
  current = root;
}
// basic.js registers the hook that creates a fresh environment before every test: it must apply to every file.
const globalHooks = root.before.slice();

function run(node, file) {
  if (node.body === undefined) {
    for (const child of node.children) run(child, file || (node.parent === root ? node.title : file));
    return;
  }
  const chain = ancestry(node);
  const titles = chain.filter((suite) => suite !== root && suite.parent !== root).map((suite) => suite.title);
  let title = `${file}: ${[...titles, node.title].join(" > ")}`;
  const seen = (titlesSeen.get(title) || 0) + 1;
  titlesSeen.set(title, seen);
  if (seen > 1) title += ` (${seen})`;
  running = { title, count: 1 };
  global.handlebarsEnv = Handlebars.create();
  try {
    for (const hook of globalHooks) hook.call({});
    for (const suite of chain) for (const hook of suite.before) hook.call({});
    node.body.call({ timeout() {} });
  } catch (err) {
    // A body that throws after its checks (spies, direct API calls) keeps the cases it recorded.
  }
  try {
    for (const suite of chain.slice().reverse()) for (const hook of suite.after) hook.call({});
  } catch (err) { /* ignore */ }
}
root.before = [];
run(root, null);

process.stdout.write(JSON.stringify({
  source: "handlebars.js v4.7.8 spec/*.js",
  handlebars: Handlebars.VERSION,
  cases,
}, null, 1) + "\n");
