// Part of the ticket's JSON trick (docs/performance.md, "Speed tricks"), shared by the other fast modules: a string
// as JSON text, as JSON.stringify writes it. Most strings on the hot path (ids, keys, URLs, dates) need no escaping:
// one regular expression test finds that for less than a call into JSON.stringify. Anything else goes to it.

// Characters JSON.stringify writes as they are: printable ASCII but quotes and backslashes.
const PLAIN = /^[\w .:/?=&%+,;@~*!$'()[\]{}<>#^|`-]*$/

export const jsonString = (s: string): string => (PLAIN.test(s) ? `"${s}"` : JSON.stringify(s))
