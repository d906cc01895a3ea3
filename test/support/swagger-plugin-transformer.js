// Runs the Nest Swagger CLI plugin inside ts-jest, with the options nest-cli.json gives it,
// so documents built in tests match the ones `nest build` produces.
const plugin = require('@nestjs/swagger/plugin');
const nestCli = require('../../nest-cli.json');

const options = nestCli.compilerOptions.plugins.find((p) => p.name === '@nestjs/swagger').options;

module.exports = {
  name: 'nestjs-swagger-transformer',
  version: 1,
  factory: (compiler) => plugin.before(options, compiler.program),
};
