// Starts one real Kafka + PostgreSQL primary/replica for the whole integration run, migrates a template
// database that each test file clones, and hands the addresses to tests through `inject('testenv')`.
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { startEnvironment, withDatabase, type Environment } from '@energy-ingest/testenv'
import { migrate } from '@energy-ingest/db'

const TEMPLATE = 'energy_template'

let environment: Environment | undefined

async function prepareTemplate(primaryUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: primaryUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${TEMPLATE}`)
  } finally {
    await admin.end()
  }
  await migrate({ connectionString: withDatabase(primaryUrl, TEMPLATE) })
}

export async function setup(project: TestProject): Promise<void> {
  environment = await startEnvironment()
  try {
    await prepareTemplate(environment.primaryUrl)
  } catch (err) {
    await environment.stop()
    throw err
  }
  project.provide('testenv', {
    mode: environment.mode,
    kafkaBrokers: environment.kafkaBrokers,
    primaryUrl: environment.primaryUrl,
    replicaUrl: environment.replicaUrl,
    templateDatabase: TEMPLATE,
  })
}

export async function teardown(): Promise<void> {
  await environment?.stop()
}
