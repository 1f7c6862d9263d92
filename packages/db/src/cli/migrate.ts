// Applies pending migrations: DATABASE_URL=postgres://… node packages/db/dist/cli/migrate.js
import { migrate } from '../migrate.js'

const connectionString = process.env.DATABASE_URL
if (!connectionString) {
  console.error('DATABASE_URL is required')
  process.exit(2)
}
try {
  const { applied } = await migrate({
    connectionString,
    log: (message, fields) => console.log(JSON.stringify({ msg: message, ...fields })),
  })
  console.log(JSON.stringify({ msg: 'migrations done', applied }))
} catch (err) {
  console.error((err as Error).message)
  process.exit(1)
}
