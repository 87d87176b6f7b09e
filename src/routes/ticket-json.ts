// The ticket as JSON text, byte for byte what JSON.stringify makes of it. The policy and its signature are most
// of a ticket's bytes, and they are base64 and hex by construction (signPostPolicy): they are written as they are,
// without the escape check JSON.stringify makes character by character (docs/performance.md).
import type { UploadTicketView } from '../uploads/service.js'

const json = JSON.stringify

export function ticketJson (ticket: UploadTicketView): string {
  const { Policy: policy, 'X-Amz-Signature': signature, ...fields } = ticket.upload.fields
  if (policy === undefined || signature === undefined) return json(ticket)
  const rest = json(fields)
  // The signer adds Policy and X-Amz-Signature last: they stay last, so the form's field order is unchanged.
  const open = rest === '{}' ? '{' : `${rest.slice(0, -1)},`
  return `{"uploadId":${json(ticket.uploadId)},"key":${json(ticket.key)},"upload":{"method":${json(ticket.upload.method)},"url":${json(ticket.upload.url)},"fields":${open}"Policy":"${policy}","X-Amz-Signature":"${signature}"}},"publicUrl":${json(ticket.publicUrl)},"expiresAt":${json(ticket.expiresAt)},"maxBytes":${json(ticket.maxBytes)}}`
}
