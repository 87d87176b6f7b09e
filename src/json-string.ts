// A string as JSON text, as JSON.stringify writes it. Most strings on the hot path (ids, keys, URLs, dates) need no
// escaping: one regular expression test finds that for less than a call into JSON.stringify, a C++ builtin with a
// set-up of its own (docs/performance.md). Anything else goes to JSON.stringify.

// Characters JSON.stringify writes as they are: printable ASCII but quotes and backslashes.
const PLAIN = /^[\w .:/?=&%+,;@~*!$'()[\]{}<>#^|`-]*$/

export const jsonString = (s: string): string => (PLAIN.test(s) ? `"${s}"` : JSON.stringify(s))
