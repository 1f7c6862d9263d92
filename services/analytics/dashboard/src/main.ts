// Entry point: the API-key form, a hash router (#/ fleet, #/vehicles/:id), and a refresh every 30 s.
import { apiKey, ApiError } from './api.js'
import { renderFleet, type Range } from './fleet.js'
import { esc } from './format.js'
import { renderVehicle } from './vehicle.js'

const REFRESH_MS = 30_000
const main = document.querySelector<HTMLElement>('#main')!
const status = document.querySelector<HTMLElement>('#status')!
const refreshButton = document.querySelector<HTMLButtonElement>('#refresh')!
const signOut = document.querySelector<HTMLButtonElement>('#sign-out')!
let range: Range = (sessionStorage.getItem('energy-dashboard-range') as Range | null) ?? '24h'
let timer: ReturnType<typeof setTimeout> | undefined
let generation = 0

function showKeyForm(message = ''): void {
  clearTimeout(timer)
  refreshButton.hidden = true
  signOut.hidden = true
  status.textContent = ''
  main.innerHTML = `<form class="key-form" id="key-form">
  <h2>Analytics API key</h2>
  <p>Enter a key from the service's <code>ANALYTICS_API_KEYS</code>. It stays in this browser tab only (session storage).</p>
  <label for="api-key">API key</label>
  <input id="api-key" name="key" type="password" autocomplete="off" required aria-describedby="key-error">
  <button class="primary" type="submit">Open dashboard</button>
  <p class="error" id="key-error" role="alert">${esc(message)}</p>
</form>`
  const input = main.querySelector<HTMLInputElement>('#api-key')!
  input.focus()
  main.querySelector('form')!.addEventListener('submit', (e) => {
    e.preventDefault()
    const key = input.value.trim()
    if (!key) return
    apiKey.set(key)
    void render(true)
  })
}

function route(): { page: 'fleet' } | { page: 'vehicle'; id: string } {
  const m = /^#\/vehicles\/([^/]+)$/.exec(location.hash)
  return m ? { page: 'vehicle', id: decodeURIComponent(m[1]!) } : { page: 'fleet' }
}

async function render(focus = false): Promise<void> {
  clearTimeout(timer)
  if (apiKey.get() === null) return showKeyForm()
  const mine = ++generation
  status.textContent = 'Loading…'
  const r = route()
  try {
    const target = document.createElement('div')
    if (r.page === 'vehicle') await renderVehicle(target, r.id, range)
    else await renderFleet(target, range)
    if (mine !== generation) return // a newer render started meanwhile
    // Keep focus on the control the user was on (a range radio) across a refresh.
    const active = document.activeElement as HTMLInputElement | null
    const keep =
      active && main.contains(active) && active.name
        ? `input[name="${active.name}"][value="${active.value}"]`
        : null
    main.replaceChildren(...target.childNodes)
    bindControls()
    if (keep) main.querySelector<HTMLElement>(keep)?.focus()
    else if (focus) main.focus()
    status.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')} · refreshes every ${REFRESH_MS / 1000} s`
    refreshButton.hidden = false
    signOut.hidden = false
  } catch (err) {
    if (mine !== generation) return
    if (err instanceof ApiError && err.status === 401) {
      apiKey.clear()
      return showKeyForm(`The API key was refused (${err.message}). Check it and enter it again.`)
    }
    const message =
      err instanceof ApiError ? `${err.status ? `${err.status}: ` : ''}${err.message}` : String(err)
    status.textContent = `Could not load: ${message}. Retrying in ${REFRESH_MS / 1000} s.`
  }
  timer = setTimeout(() => void render(), REFRESH_MS)
}

function bindControls(): void {
  main.querySelectorAll<HTMLInputElement>('fieldset.range input[type=radio]').forEach((input) =>
    input.addEventListener('change', () => {
      range = input.value as Range
      sessionStorage.setItem('energy-dashboard-range', range)
      void render()
    }),
  )
}

refreshButton.addEventListener('click', () => void render())
signOut.addEventListener('click', () => {
  apiKey.clear()
  showKeyForm()
})
window.addEventListener('hashchange', () => void render(true))
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void render()
})
void render()
