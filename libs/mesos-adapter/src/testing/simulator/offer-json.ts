import type { Offer } from '../../infrastructure/wire/mesos-messages';
import type { SimulatedAgent } from './agent';
import { hasCapability, type FrameworkRecord, type OfferRecord } from './framework-state';
import { isTerminalState } from './status-updates';

/** An offer as the master sends it to one framework (`Offer`, fields in `.proto` order). */
export function offerJson(
  offer: OfferRecord,
  framework: FrameworkRecord,
  agent: SimulatedAgent | undefined,
): Offer {
  const multiRole = hasCapability(framework.info, 'MULTI_ROLE');
  const json: Offer = {
    id: { value: offer.id },
    framework_id: { value: offer.frameworkId },
    agent_id: { value: offer.agentId },
    hostname: agent?.host ?? '',
  };
  if (agent !== undefined) {
    json.url = {
      scheme: 'http',
      address: { hostname: agent.host, ip: agent.host, port: agent.port },
      path: '/slave(1)',
    };
  }
  json.resources = offer.resources.toProto({
    allocationRole: multiRole ? offer.role : undefined,
    refinement: hasCapability(framework.info, 'RESERVATION_REFINEMENT'),
  });
  const attributes = Object.entries(agent?.attributes ?? {});
  if (attributes.length > 0) {
    json.attributes = attributes.map(([name, value]) => ({
      name,
      type: 'TEXT',
      text: { value },
    }));
  }
  // Command executors of this framework on the agent, as the master lists executors.
  const executors = [...framework.tasks.values()]
    .filter((task) => task.agentId === offer.agentId && !isTerminalState(task.state))
    .map((task) => ({ value: task.info.task_id.value }));
  if (executors.length > 0) json.executor_ids = executors;
  if (multiRole) json.allocation_info = { role: offer.role };
  return json;
}
