// Speed trick (docs/performance.md, "Speed tricks"): the ticket as JSON text, byte for byte what JSON.stringify
// makes of it, instead of Fastify's response serializer. The policy and its signature, most of a ticket's bytes, are
// base64 and hex by construction (signPostPolicy) and are written as they are, without an escape check character
// by character; the other strings are short and go through jsonString.
import { jsonString } from './json-string.js'
import type { UploadTicketView } from '../uploads/service.js'

/**
 * The form's method, URL and its fields before the key, as text: the same for every ticket of a second, content
 * type and size limit. Kept with the strings it was made from (names and values in turn) and reused while a
 * ticket has the same ones, compared by identity first: the signer hands out the same strings.
 * It starts with a method no ticket has, so the first ticket always makes it.
 */
let head = { method: '\0', url: '', parts: [] as string[], text: '' }

function formHead (method: string, url: string, fields: Record<string, string>, n: number): string {
  const parts: string[] = []
  let text = ''
  for (const name in fields) {
    if (parts.length === 2 * n) break
    if (name === 'Policy' || name === 'X-Amz-Signature') continue
    const value = fields[name] ?? ''
    parts.push(name, value)
    text += `${jsonString(name)}:${jsonString(value)},`
  }
  head = { method, url, parts, text: `"method":${jsonString(method)},"url":${jsonString(url)},"fields":{${text}` }
  return head.text
}

export function ticketJson (ticket: UploadTicketView): string {
  const { method, url, fields } = ticket.upload
  const policy = fields.Policy
  const signature = fields['X-Amz-Signature']
  if (policy === undefined || signature === undefined) return JSON.stringify(ticket)
  // Joined, not concatenated: join() writes one flat string, where `+` builds a tree of pieces that Fastify's
  // Buffer.byteLength flattens again for the content length.
  const out = ['{"uploadId":', jsonString(ticket.uploadId), ',"key":', jsonString(ticket.key), ',"upload":{', '']
  // Fields before the key: compared with the remembered ones. The key and what follows: written each time.
  let n = 0
  let same = method === head.method && url === head.url
  let atKey = false
  // The signer adds Policy and X-Amz-Signature last: they stay last, so the form's field order is unchanged.
  for (const name in fields) {
    if (name === 'Policy' || name === 'X-Amz-Signature') continue
    const value = fields[name] ?? ''
    if (!atKey && name !== 'key') {
      if (same && (head.parts[2 * n] !== name || head.parts[2 * n + 1] !== value)) same = false
      n++
    } else {
      atKey = true
      out.push(jsonString(name), ':', jsonString(value), ',')
    }
  }
  out[5] = same && head.parts.length === 2 * n ? head.text : formHead(method, url, fields, n)
  out.push('"Policy":"', policy, '","X-Amz-Signature":"', signature, '"}},"publicUrl":', jsonString(ticket.publicUrl),
    ',"expiresAt":', jsonString(ticket.expiresAt), ',"maxBytes":', Number.isFinite(ticket.maxBytes) ? String(ticket.maxBytes) : 'null', '}')
  return out.join('')
}
