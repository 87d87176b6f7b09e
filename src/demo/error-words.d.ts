// Types of error-words.js (browser code served as is, so it stays JavaScript).
export interface Limits { maxBytes: number, types: string[] }
export interface ErrorContext { types: string[], contentType: string, expiresAt?: string, now: number }
export function typeName (type: string): string
export function typeList (types: string[]): string
export function formatBytes (bytes: number): string
export function describeFileProblem (file: { name: string, type: string, size: number }, limits: Limits): string | undefined
export function parseErrorBody (text: string | null | undefined): { code: string, message: string }
export function describeServerError (status: number, text: string | null | undefined, context: ErrorContext): string
