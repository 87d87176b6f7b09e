// Which methods a path has routes for, so a known path asked with another method answers 405 with Allow instead
// of 404. Filled from Fastify's onRoute hook; patterns follow find-my-way's (":param" a segment, "*" the rest).

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')

function patternOf (url: string): RegExp {
  const source = url.split(/(:[A-Za-z0-9_]+|\*)/).map((part) =>
    part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : escape(part)).join('')
  return new RegExp(`^${source}$`)
}

export class RouteMethods {
  private readonly routes: Array<{ pattern: RegExp, methods: string[] }> = []

  add (method: string | string[], url: string): void {
    // The CORS preflight route matches every path: it says nothing about which methods a path has.
    if (url === '*' || url === '/*') return
    this.routes.push({ pattern: patternOf(url), methods: Array.isArray(method) ? method : [method] })
  }

  /** The methods some route takes at `path`, in a stable order; empty when no route matches it. */
  allowed (path: string): string[] {
    const found = new Set<string>()
    for (const { pattern, methods } of this.routes) if (pattern.test(path)) for (const m of methods) found.add(m)
    return ORDER.filter((m) => found.has(m)).concat([...found].filter((m) => !ORDER.includes(m)))
  }
}

const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
