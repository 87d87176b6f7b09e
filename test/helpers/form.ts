// Posts an upload ticket's form exactly as a browser does: every field, then the file part.
export interface TicketUpload { url: string, fields: Record<string, string> }

export function uploadForm (upload: TicketUpload, file: Buffer, type: string, extra: Record<string, string> = {}): FormData {
  const form = new FormData()
  for (const [k, v] of Object.entries({ ...upload.fields, ...extra })) form.append(k, v)
  form.append('file', new Blob([new Uint8Array(file)], { type }), 'avatar')
  return form
}

export async function postForm (upload: TicketUpload, file: Buffer, type: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(upload.url, { method: 'POST', body: uploadForm(upload, file, type, extra), headers })
}
