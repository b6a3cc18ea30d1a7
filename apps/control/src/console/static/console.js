// Progressive enhancement only: every page works without this. GOV.UK Frontend's components (the error summary takes
// focus, the password input's show button, the service navigation's menu on small screens).
import { initAll } from '/console/govuk/govuk-frontend.min.js';

initAll();
