// The ticket as JSON text, byte for byte what JSON.stringify makes of it, for less (docs/performance.md): the
// policy and its signature, most of a ticket's bytes, are base64 and hex by construction (signPostPolicy) and are
// written as they are, without the escape check JSON.stringify makes character by character; the other strings
// are short and go through jsonString.
import { jsonString } from '../json-string.js'
import type { UploadTicketView } from '../uploads/service.js'

export function ticketJson (ticket: UploadTicketView): string {
  const fields = ticket.upload.fields
  const policy = fields.Policy
  const signature = fields['X-Amz-Signature']
  if (policy === undefined || signature === undefined) return JSON.stringify(ticket)
  let form = ''
  // The signer adds Policy and X-Amz-Signature last: they stay last, so the form's field order is unchanged.
  for (const name in fields) {
    if (name !== 'Policy' && name !== 'X-Amz-Signature') form += `${jsonString(name)}:${jsonString(fields[name] ?? '')},`
  }
  return `{"uploadId":${jsonString(ticket.uploadId)},"key":${jsonString(ticket.key)},"upload":{"method":${jsonString(ticket.upload.method)},"url":${jsonString(ticket.upload.url)},"fields":{${form}"Policy":"${policy}","X-Amz-Signature":"${signature}"}},"publicUrl":${jsonString(ticket.publicUrl)},"expiresAt":${jsonString(ticket.expiresAt)},"maxBytes":${Number.isFinite(ticket.maxBytes) ? String(ticket.maxBytes) : 'null'}}`
}
