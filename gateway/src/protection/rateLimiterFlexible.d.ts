// rate-limiter-flexible's types describe its index, which loads every backend (Mongo, Postgres, …): ~7 ms of
// module loading on Node. The gateway imports the two classes it uses by path; these declarations lend them
// the package's own types.
declare module "rate-limiter-flexible/lib/RateLimiterMemory.js" {
  import { RateLimiterMemory } from "rate-limiter-flexible";
  export default RateLimiterMemory;
}
declare module "rate-limiter-flexible/lib/RateLimiterRedis.js" {
  import { RateLimiterRedis } from "rate-limiter-flexible";
  export default RateLimiterRedis;
}
