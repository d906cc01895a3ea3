import { registerDecorator } from 'class-validator';

type Choice = 'exactly-one' | 'at-least-one';

/**
 * A container names its image either for Docker or for the Mesos containerizer. A new job needs
 * exactly one; an update may give both, and Docker wins, as in the original Rhythm.
 */
export function HasContainerImage(choice: Choice): PropertyDecorator {
  return (target, propertyKey) =>
    registerDecorator({
      name: 'hasContainerImage',
      target: target.constructor,
      propertyName: String(propertyKey),
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'object' || value === null) return false;
          const given = ['docker', 'mesos'].filter((kind) =>
            isPresent((value as Record<string, unknown>)[kind]),
          );
          return choice === 'exactly-one' ? given.length === 1 : given.length >= 1;
        },
        defaultMessage: () =>
          choice === 'exactly-one'
            ? 'Must have exactly one of Docker and Mesos, each with an Image'
            : 'Must have Docker or Mesos',
      },
    });
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}
