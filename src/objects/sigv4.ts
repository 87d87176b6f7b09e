// AWS Signature Version 4 as POST policies use it: the algorithm's name and the signing key of a day and region
// for the s3 service. Shared by the signer (fast/post-policy.ts) and development's verification (post-policy.ts).
import { createHmac } from 'node:crypto'

export const ALGORITHM = 'AWS4-HMAC-SHA256'

export function signingKey (secret: string, shortDate: string, region: string): Buffer {
  const hmac = (k: string | Buffer, data: string) => createHmac('sha256', k).update(data).digest()
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, shortDate), region), 's3'), 'aws4_request')
}
