// hopper-queue/gateway: the Upstash-compatible REST gateway in front of any Redis (needs `fastify`).
export { createRestGateway, type GatewayConfig, type RestGateway } from '../gateway/index.js';
