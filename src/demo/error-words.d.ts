// Types of error-words.js (browser code served as is, so it stays JavaScript).
/** Content type → the name people know it by ({ 'image/png': 'PNG' }), from the service's format table. */
export type TypeNames = Record<string, string>
export interface Limits { maxBytes: number, types: string[], typeNames?: TypeNames }
export interface ErrorContext { types: string[], typeNames?: TypeNames, contentType: string, expiresAt?: string, now: number }
export function typeName (type: string, names?: TypeNames): string
export function typeList (types: string[], names?: TypeNames): string
export function formatBytes (bytes: number): string
export function describeFileProblem (file: { name: string, type: string, size: number }, limits: Limits): string | undefined
export function parseErrorBody (text: string | null | undefined): { code: string, message: string }
export function describeServerError (status: number, text: string | null | undefined, context: ErrorContext): string
