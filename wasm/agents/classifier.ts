// Classifies random feature vectors with a model served by the GPU host: keeps `parallel` requests
// to "@gpu/<model>" outstanding, reads each answer's argmax, reports it, and finishes after
// `requests` answers. Init: model=mlp; input=x; output=y; width=16; requests=5; parallel=1;
// report=<agent>.
import {
  INFER_ERROR_KIND,
  INFER_RESULT_KIND,
  InferenceRequest,
  infer,
  intParam,
  log,
  Message,
  onInit,
  onMessage,
  param,
  random,
  readError,
  readResult,
  sendText,
  WARN,
} from "../sdk";

let model = "mlp";
let input = "x";
let output = "y";
let width: i32 = 16;
let requests: i32 = 5;
let report = "";
let parallel: i32 = 1;
let sent: i32 = 0;
let answered: i32 = 0;
/** Ids of the requests sent and not yet answered: an answer's correlation id names one. */
const pending = new Set<string>();

onInit((data: Uint8Array): void => {
  model = param(data, "model", model);
  input = param(data, "input", input);
  output = param(data, "output", output);
  width = <i32>intParam(data, "width", width);
  requests = <i32>intParam(data, "requests", requests);
  report = param(data, "report", "");
  parallel = <i32>intParam(data, "parallel", parallel);
  for (let i = 0; i < parallel && sent < requests; i++) ask();
});

function ask(): void {
  sent++;
  const features = new Float32Array(width);
  for (let i = 0; i < width; i++) features[i] = <f32>(random() * 2 - 1);
  pending.add(infer(model, new InferenceRequest().addFloat32(input, [1, width], features)));
}

onMessage((message: Message): bool => {
  if (message.kind == INFER_RESULT_KIND) {
    answered++;
    const request = message.correlationId;
    const known = pending.has(request);
    if (known) pending.delete(request);
    const tensor = readResult(message).output(output);
    const label = tensor ? tensor.argmax() : -1;
    log(
      "answer " + answered.toString() + " of " + requests.toString() + ": class " + label.toString() +
        (known ? " (request " + request + ")" : " (UNKNOWN request " + request + ")"),
    );
    if (report.length > 0) sendText(report, "add", "1");
  } else if (message.kind == INFER_ERROR_KIND) {
    answered++;
    const error = readError(message);
    log("model error (code " + error.code.toString() + "): " + error.message, WARN);
  } else {
    return false;
  }
  if (answered >= requests) return true;
  if (sent < requests) ask();
  return false;
});
