import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Request validation by TypeBox's compiler, the engine the contracts use too: each schema is
 * compiled once; params, query strings and headers are converted first (`"0.9"` -> 0.9, the only
 * coercion), bodies never are, and an unknown property fails where the schema says
 * `additionalProperties: false`. Defaults are not filled in: handlers apply their own.
 */
const validation: FastifyPluginAsync = async (app) => {
  app.setValidatorCompiler(TypeBoxValidatorCompiler)
}

export default fp(validation, { name: 'validation', fastify: '5.x' })
