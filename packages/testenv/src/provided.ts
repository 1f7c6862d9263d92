import type {} from 'vitest'
import type { EnvironmentInfo } from './databases.js'

// Typed access to what the integration globalSetup provides: `inject('testenv')` in a test file.
declare module 'vitest' {
  export interface ProvidedContext {
    testenv: EnvironmentInfo
  }
}
