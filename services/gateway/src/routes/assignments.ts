import { validateAssignment } from '@energy-ingest/contracts'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { DeviceForbidden, InvalidAssignment, describeIssues, withIssues } from '../errors.js'
import { AssignmentAcceptedSchema, AssignmentRef, errorResponses, handlerValidated } from '../schemas.js'

/** POST /assignments: which meter a vehicle charges from, from when (to when). Fleet tokens only. */
export default async function assignmentRoutes(fastify: FastifyInstance, opts: { bodyLimitBytes: number }) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const { publisher } = app
  app.post(
    '/assignments',
    {
      bodyLimit: opts.bodyLimitBytes,
      schema: {
        operationId: 'postAssignment',
        summary: 'Assign a vehicle to the meter it charges from',
        description:
          'Published to fleet.assignments.v1 and applied by the writer. validTo absent or null: open. ' +
          'Requires a fleet token.',
        tags: ['fleet'],
        body: handlerValidated(AssignmentRef),
        response: {
          202: AssignmentAcceptedSchema,
          ...errorResponses(400, 401, 403, 413, 415, 429, 503),
        },
      },
    },
    async (req, reply) => {
      if (req.principal?.kind !== 'fleet') throw new DeviceForbidden('assignments (fleet tokens only)')
      const result = validateAssignment(req.body)
      if (!result.ok) throw withIssues(new InvalidAssignment(describeIssues(result.issues)), result.issues)
      const assignment = result.assignment
      await publisher.publish([{ kind: 'assignment', key: assignment.vehicleId, value: assignment }])
      return reply.code(202).send({ ...assignment, validTo: assignment.validTo ?? null })
    },
  )
}
