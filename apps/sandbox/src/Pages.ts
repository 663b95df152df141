/**
 * The small HTML login and consent pages of `consent: "page"`. Element ids are a stable contract for browser tests
 * (see README): `#login`, `#password`, `button[type=submit]` (`#submit`), `#approve`, `#deny`, `#error`.
 */

const escape = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

const layout = (title: string, body: string): string =>
  `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)} · Datadog sandbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#222}
label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.4rem;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1rem}#error{color:#b00020}code{background:#eee;padding:0 .2rem}</style>
</head><body><h1>${escape(title)}</h1>${body}</body></html>`

export const loginPage = (uid: string, clientName: string, error: string | undefined): string =>
  layout(
    "Sign in",
    `<p>Sign in to authorise <strong id="client-name">${escape(clientName)}</strong>.</p>
${error === undefined ? "" : `<p id="error" role="alert">${escape(error)}</p>`}
<form id="login-form" method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
<label for="login">Email</label><input id="login" name="login" type="text" autofocus required>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<button id="submit" type="submit">Sign in</button>
</form>
<p><small>Test accounts: <code>jane@example.com</code> / <code>sandbox</code>.</small></p>`
  )

export const consentPage = (uid: string, clientName: string, scope: string, resources: unknown): string => {
  const resourceList = resources !== null && typeof resources === "object" ? Object.keys(resources) : []
  return layout(
    "Authorise access",
    `<p><strong id="client-name">${escape(clientName)}</strong> asks for access to your Datadog sandbox data.</p>
<p>Scope: <code id="scope">${escape(scope === "" ? "(default)" : scope)}</code></p>
${
      resourceList.length === 0
        ? ""
        : `<p>Resource: ${resourceList.map((r) => `<code class="resource">${escape(r)}</code>`).join(" ")}</p>`
    }
<form id="consent-form" method="post" action="/interaction/${escape(uid)}/confirm">
<button id="approve" type="submit">Approve</button>
</form>
<form id="deny-form" method="post" action="/interaction/${escape(uid)}/abort">
<button id="deny" type="submit">Deny</button>
</form>`
  )
}

export const errorPage = (error: string, description: string): string =>
  layout("Error", `<p id="error" role="alert"><code>${escape(error)}</code> ${escape(description)}</p>`)
