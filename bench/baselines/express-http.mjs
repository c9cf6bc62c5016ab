// Same-work baseline: the minimal Express 5 sender with the provider call written by hand (http.request,
// form-encoded, keep-alive pool): what the SDK's own work costs shows as the difference to express-sdk.mjs.
import { startExpressSender } from "./express-sender.mjs";
import { sendSms } from "./post.mjs";

startExpressSender(sendSms);
