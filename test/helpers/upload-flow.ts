// The development upload flow over real HTTP, as the main backend and a browser drive it.
import { AUTH } from './build.js'
import { postForm, type TicketUpload } from './form.js'
import { png } from './images.js'

export interface Ticket { uploadId: string, key: string, publicUrl: string, expiresAt: string, upload: TicketUpload }

export async function createTicket (base: string, ownerId: string, contentType = 'image/png'): Promise<Ticket> {
  const res = await fetch(`${base}/v1/uploads`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ ownerId, contentType }) })
  if (res.status !== 201) throw new Error(`ticket: ${res.status} ${await res.text()}`)
  return await res.json() as Ticket
}

/** A ticket whose form was posted (the object is stored), not completed. */
export async function uploaded (base: string, ownerId: string, image = png(), contentType = 'image/png'): Promise<Ticket> {
  const ticket = await createTicket(base, ownerId, contentType)
  const res = await postForm(ticket.upload, image, contentType)
  if (res.status !== 201) throw new Error(`form post: ${res.status} ${await res.text()}`)
  return ticket
}

export async function complete (base: string, uploadId: string): Promise<Response> {
  return await fetch(`${base}/v1/uploads/${uploadId}/complete`, { method: 'POST' })
}

/** Uploaded and completed (200). */
export async function confirmed (base: string, ownerId: string, image = png()): Promise<Ticket> {
  const ticket = await uploaded(base, ownerId, image)
  const res = await complete(base, ticket.uploadId)
  if (res.status !== 200) throw new Error(`complete: ${res.status} ${await res.text()}`)
  return ticket
}

export async function uploadStatus (base: string, uploadId: string): Promise<string> {
  const res = await fetch(`${base}/v1/uploads/${uploadId}`, { headers: AUTH })
  return (await res.json() as { status: string }).status
}

export interface EventView { id: string, uploadId: string, type: string, status: string, attempts: number, nextAttemptAt: string, lastError: string | null, createdAt: string, deliveredAt: string | null }

export async function listEvents (base: string, status: string): Promise<EventView[]> {
  const res = await fetch(`${base}/v1/webhooks/events?status=${status}`, { headers: AUTH })
  if (res.status !== 200) throw new Error(`events: ${res.status} ${await res.text()}`)
  return (await res.json() as { events: EventView[] }).events
}
