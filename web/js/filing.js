// filing.js -- staff file for a person (issue 11 item 6): hospital staff
// 代办申报 (R-APP-7: only diseases the hospital may certify where
// hospitals certify; the pre-check shown in plain words; the hospital's
// own electronic records among the uploads) and the agency's 窗口代办
// (R-APP-1, channel counter, persons of the agency's region).  Both are
// the applicant wizard (applicant.js) with the person's ID number and
// name added, so uploads, the checklist and submit are the same pages.

import { h } from './ui.js';

const applicant = () => import('./applicant.js');

// Hospital staff: 代办申报, a new filing or the draft id.
export async function hospitalFile(id, main) {
  return (await applicant()).applyWizard(id, main, {
    mode: 'hospital', title: '代办申报', base: '#/hospital/file',
    intro: [h('p', { class: 'hint', text: '为来院的参保人代为申报：填写申请人的身份证号码和姓名（须与参保登记一致），' +
      '选择病种；本院只能代报本院有认定资格的病种。保存后立即预检，告诉您还缺哪些材料，可上传本院的电子病历。' })],
  });
}

// Agency staff: 窗口代办, a new filing or the draft id.
export async function agencyFile(id, main) {
  return (await applicant()).applyWizard(id, main, {
    mode: 'counter', title: '窗口代办', base: '#/agency/file',
    intro: [h('p', { class: 'hint', text: '在经办窗口为本统筹区的参保人代为申报：填写申请人的身份证号码和姓名，' +
      '选择病种和定点医院，然后上传材料并提交。如有代办人，请一并登记。' })],
  });
}
