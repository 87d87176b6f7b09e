// The demo page's words for what went wrong, including S3's XML answers (AWS's and RGW's forms, and the
// development upload endpoint's, which answers the same way), which the browser tests only meet in part.
import t from 'tap'
import { describeFileProblem, describeServerError, formatBytes, parseErrorBody, typeList, typeName } from '../../src/demo/error-words.js'
import { DEFAULT_CONTENT_TYPES, FORMATS } from '../../src/uploads/formats.js'

const TYPES = DEFAULT_CONTENT_TYPES
// What the page passes in (a data attribute demo.ts renders from the format table).
const NAMES = Object.fromEntries(FORMATS.map((f) => [f.contentType, f.name]))
const NOW = Date.parse('2026-11-28T08:00:00Z')
const context = { types: TYPES, typeNames: NAMES, contentType: 'image/png', expiresAt: '2026-11-28T08:10:00Z', now: NOW }
const expired = { ...context, now: Date.parse('2026-11-28T08:10:01Z') }
const xml = (code: string, message?: string) => '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + code + '</Code>' +
  (message !== undefined ? `<Message>${message}</Message>` : '') + '<RequestId>tx000001</RequestId><HostId>abc</HostId></Error>'

t.test('sizes and type lists read naturally', async (t) => {
  t.equal(formatBytes(512), '512 bytes')
  t.equal(formatBytes(1536), '1.5 KB')
  t.equal(formatBytes(5 * 1024 * 1024), '5 MB')
  t.equal(typeList(TYPES, NAMES), 'JPEG, PNG, WebP or GIF')
  t.equal(typeList(['image/png'], NAMES), 'PNG')
  t.equal(typeList(['image/png', 'image/avif'], NAMES), 'PNG or AVIF', 'every name comes from the format table')
  t.equal(typeName('image/x-new', NAMES), 'image/x-new', 'a type without a name is given as it is')
  t.equal(typeName('image/png'), 'image/png', 'no names given: the types themselves')
  t.equal(typeName('constructor', NAMES), 'constructor', 'only the table\'s own entries')
  t.equal(typeName('', NAMES), 'unknown')
})

t.test('a chosen file is checked before anything is sent', async (t) => {
  const limits = { maxBytes: 1024 * 1024, types: TYPES, typeNames: NAMES }
  t.equal(describeFileProblem({ name: 'a.png', type: 'image/png', size: 1000 }, limits), undefined)
  t.equal(describeFileProblem({ name: 'big.jpg', type: 'image/jpeg', size: 3 * 1024 * 1024 }, limits),
    '“big.jpg” is too large (3 MB). The largest image you can upload is 1 MB.')
  t.equal(describeFileProblem({ name: 'x.svg', type: 'image/svg+xml', size: 10 }, limits),
    '“x.svg” is not an image this page accepts (its type is image/svg+xml). Choose a JPEG, PNG, WebP or GIF image.')
  t.match(describeFileProblem({ name: 'notes', type: '', size: 10 }, limits), /its type is unknown/)
  t.equal(describeFileProblem({ name: 'empty.png', type: 'image/png', size: 0 }, limits), '“empty.png” is empty. Choose another image.')
})

t.test('error bodies: the service\'s JSON and S3\'s XML', async (t) => {
  t.same(parseErrorBody('{"statusCode":413,"error":"Payload Too Large","code":"TOO_LARGE","message":"too big"}'), { code: 'TOO_LARGE', message: 'too big' })
  t.same(parseErrorBody(xml('AccessDenied', 'Invalid according to Policy: Policy Condition failed: [&quot;eq&quot;, &quot;$key&quot;]')),
    { code: 'AccessDenied', message: 'Invalid according to Policy: Policy Condition failed: ["eq", "$key"]' }, 'entities decoded')
  t.same(parseErrorBody(xml('AccessDenied')), { code: 'AccessDenied', message: '' }, 'RGW often sends no message')
  t.same(parseErrorBody('<html><body>Bad gateway</body></html>'), { code: '', message: '' })
  t.same(parseErrorBody('{not json'), { code: '', message: '' })
  t.same(parseErrorBody(null), { code: '', message: '' })
})

t.test('refusals in words, with what the server said', async (t) => {
  const cases: Array<[string, number, string, typeof context, RegExp]> = [
    ['S3 too large', 400, xml('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'), context,
      /^The image is too large for the server\. Choose a smaller image\. \(The server said: “Your proposed upload exceeds the maximum allowed size”\)$/],
    ['service too large', 413, '{"code":"TOO_LARGE","message":"the image is larger than allowed"}', context, /^The image is too large/],
    ['S3 too small', 400, xml('EntityTooSmall'), context, /^The file is empty\. Choose another image\. \(The server said: EntityTooSmall\)$/],
    ['development too large (XML, like S3)', 400, xml('EntityTooLarge', 'the file is larger than the policy allows (at most 1000 bytes)'), context,
      /^The image is too large for the server\. Choose a smaller image\. \(The server said: “the file is larger than the policy allows \(at most 1000 bytes\)”\)$/],
    ['development expired policy (XML, like S3)', 403, xml('AccessDenied', 'Invalid according to Policy: Policy expired.'), expired, /^The upload ticket expired/],
    ['malformed form', 400, xml('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.'), context, /^The storage refused the upload because the form did not match its ticket\. .*\(The server said: “The body/],
    ['two files', 400, xml('IncorrectNumberOfFilesInPostRequest'), context, /^The storage refused the upload/],
    ['type not allowed', 400, '{"code":"CONTENT_TYPE_NOT_ALLOWED","message":"no"}', context, /^This kind of file is not accepted\. Choose a JPEG, PNG, WebP or GIF image\./],
    ['not the declared type', 422, '{"code":"NOT_AN_IMAGE","message":"declared image/png"}', context, /^The file is not a real PNG image/],
    ['a 422 without a code', 422, '', context, /^The file is not a real PNG image/],
    ['AWS expired policy', 403, xml('AccessDenied', 'Invalid according to Policy: Policy expired.'), context, /^The upload ticket expired/],
    ['RGW expired policy (no message; the ticket says so)', 403, xml('AccessDenied'), expired, /^The upload ticket expired/],
    ['development expired policy', 403, '{"code":"POLICY_EXPIRED","message":"the upload policy has expired"}', context, /^The upload ticket expired/],
    ['expired, refused without CORS headers', 0, '', expired, /^The upload ticket expired/],
    ['S3 refused the form', 403, xml('AccessDenied', 'Invalid according to Policy: Policy Condition failed'), context, /^The storage refused the upload because the form did not match its ticket/],
    ['bad signature', 403, xml('SignatureDoesNotMatch'), context, /^The storage refused the upload/],
    ['network or CORS', 0, '', context, /^The upload could not reach the server\. .*\(CORS\)\.$/],
    ['nothing uploaded', 409, '{"code":"NOT_UPLOADED","message":"m"}', context, /^The image did not arrive/],
    ['unknown upload', 404, '{"code":"UPLOAD_NOT_FOUND","message":"m"}', context, /^This upload is no longer known/],
    ['server failure', 503, '{"code":"UNAVAILABLE","message":"retry later"}', context, /^The server had a problem \(status 503\)\. Try again in a moment\. \(The server said: “retry later”\)$/],
    ['rate limited (service)', 429, '{"code":"RATE_LIMITED","message":"too many requests"}', context, /^Too many uploads in a short time\. Wait a minute, then try again\./],
    ['rate limited (S3 and the development upload)', 503, xml('SlowDown', 'Please reduce your request rate.'), context, /^Too many uploads in a short time\./],
    ['anything else', 418, '', context, /^The upload failed \(status 418\)\.$/]
  ]
  for (const [name, status, body, ctx, words] of cases) t.match(describeServerError(status, body, ctx), words, name)
})

t.test('image refusals (422): words of their own, without the server\'s technical text', async (t) => {
  const cases: Array<[string, string]> = [
    ['NOT_AN_IMAGE', 'The file is not a real PNG image: its contents do not match its type. Choose another image.'],
    ['IMAGE_CORRUPT', 'The file is damaged or incomplete, so it cannot be read as an image. Choose another image.'],
    ['TOO_MANY_PIXELS', 'The picture has too many pixels. Choose a smaller picture.'],
    ['BAD_DIMENSIONS', 'The picture is too wide or too tall. Choose a smaller picture.'],
    ['TOO_MANY_FRAMES', 'The animation has too many frames. Choose a shorter animation or a still image.'],
    ['SIZE_OUT_OF_RANGE', 'The file arrived with another size than announced. Choose Upload to try again.'],
    ['SOMETHING_NEW', 'The file is not a real PNG image: its contents do not match its type. Choose another image.']
  ]
  for (const [code, words] of cases) {
    const body = JSON.stringify({ statusCode: 422, error: 'Unprocessable Entity', code, message: 'the uploaded bytes are not the declared image type; the file was removed: libvips says …' })
    t.equal(describeServerError(422, body, context), words, code)
  }
})
