// How a mini-program uses the generated types: type-only imports, any HTTP call (wx.request,
// my.request, fetch). tests/test_clients.py type-checks this file with `tsc --strict`.
import type { components, operations, paths } from "./haoban";

type ApplicationCreate = components["schemas"]["ApplicationCreate"];
type ApplicationView = components["schemas"]["ApplicationView"];
type Problem = components["schemas"]["Problem"];
type Submitted = operations["createApplication"]["responses"][201]["content"]["application/json"];
type ApplicationsPath = keyof paths & "/v1/applications";

const path: ApplicationsPath = "/v1/applications";

export const body: ApplicationCreate = { service_code: "hpf.withdraw.rent", inputs: {} };

export function describe(answer: Submitted | Problem): string {
  if ("application_id" in answer) {
    const view: ApplicationView = answer;
    return `${path}: ${view.status}`;
  }
  return `${answer.code}: ${answer.title}`;
}
