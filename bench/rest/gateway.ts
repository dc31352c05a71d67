/** The REST gateway in its own process for the benchmark (as deployed: not sharing the client's event loop). */
import { createRestGateway } from '../../src/gateway/index.js';

const gateway = createRestGateway(process.env.REDIS_URL, { tokens: [process.env.GATEWAY_TOKEN ?? ''] });
const url = await gateway.listen(0, '127.0.0.1');
console.log(url);
process.on('SIGTERM', () => {
  gateway.close().then(() => process.exit(0));
});
