// The one place public image URLs are built (CONTRACT.md "Public image URLs").
import type { Config } from '../config.js'

// Each segment percent-encoded, slashes kept: one pass (a literal "%2F" in a key is encoded as "%252F"). The keys
// the service makes are made of characters encodeURIComponent keeps (and slashes): those are returned as they are.
const UNRESERVED = /^[\w.!~*'()/-]*$/
const encodeKey = (key: string) => (UNRESERVED.test(key) ? key : encodeURIComponent(key).replaceAll('%2F', '/'))

/** Returns key → public URL for the configured mode. */
export function publicUrlBuilder (config: Pick<Config, 'mode' | 'publicBaseUrl' | 's3'>): (key: string) => string {
  if (config.mode === 'development') {
    const base = `${config.publicBaseUrl}/uploads/profile/`
    // Development keys carry the production prefix (same form in both modes); the file lives in uploads/profile/.
    return (key) => base + encodeURIComponent(key.slice(key.lastIndexOf('/') + 1))
  }
  const { bucket, region, customDomain, endpoint, forcePathStyle } = config.s3
  if (customDomain !== undefined) return (key) => `https://${customDomain}/${encodeKey(key)}`
  if (endpoint !== undefined) {
    const url = new URL(endpoint)
    // As the SDK addresses it: path style when forced, or for dotted names (a wildcard certificate misses them).
    const base = forcePathStyle || bucket.includes('.')
      ? `${url.origin}${url.pathname.replace(/\/+$/, '')}/${bucket}/`
      : `${url.protocol}//${bucket}.${url.host}${url.pathname.replace(/\/+$/, '')}/`
    return (key) => base + encodeKey(key)
  }
  // A bucket name with dots does not match the *.s3.{region}.amazonaws.com certificate, so browsers would refuse
  // the virtual-hosted URL over HTTPS: such buckets get the path-style URL on the same regional host.
  if (bucket.includes('.')) return (key) => `https://s3.${region}.amazonaws.com/${bucket}/${encodeKey(key)}`
  // The guide's form, regional host (us-east-1 has one too).
  return (key) => `https://${bucket}.s3.${region}.amazonaws.com/${encodeKey(key)}`
}
