//! Every word of the resident's follow-up pages (`http::follow_up`), in three languages;
//! a match the compiler checks for every language. The wording follows the status: a
//! report closed unfixed is never thanked for being fixed.

use lianxin_contract::Lang;
use lianxin_contract::follow_up::{AnswerShown, EscalationReason};
use lianxin_contract::report::{ReportStatus, Status, Step};

/// A fixed text of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Word {
    PageTitle,
    NotFoundTitle,
    NotFound,
    Department,
    DueAt,
    Handlings,
    MergedInto,
    Timeline,
    PlannedFor,
    TransferredTo,
    NewDueAt,
    OnlyFiler,
    AnswerTitle,
    SolvedQuestion,
    SolvedYes,
    SolvedNo,
    RatingQuestion,
    ReasonsQuestion,
    CommentLabel,
    CommentHint,
    AnswerUntil,
    AnswerQueued,
    SendAnswer,
    WaitingForYou,
    MineTitle,
    MineEmpty,
    Languages,
    Hotline,
    CityTime,
    CityTitle,
    CityIntro,
    Period,
    From,
    To,
    Show,
    Total,
    ByCategory,
    ByDistrict,
    ByWeek,
    Category,
    District,
    Week,
    Reports,
    MedianHours,
    WithinLimit,
    Satisfaction,
    Withheld,
    NoDistrict,
    OpenData,
    BadDates,
    LargestClasses,
    Where,
    ResolvedOfThem,
    OneSubject,
    NearbyTitle,
    NearbyIntro,
    NearbyNone,
    MeToo,
    MeTooComment,
    MeTooPhoto,
    SupportPhotoOffline,
    FileNewAnyway,
    DepartmentReply,
    SupportQueued,
    WidgetTitle,
    WhatProblem,
    ChooseCategory,
}

/// "Questions? Call 12345", and for readers of English and Russian (tourists, often on a
/// foreign SIM where 12345 alone does not connect) the full number from abroad.
pub fn hotline(lang: Lang, abroad: &str) -> String {
    let line = get(Word::Hotline, lang);
    match lang {
        Lang::ZhCn => line,
        _ if abroad.is_empty() => line,
        Lang::En => format!("{line} From a foreign phone: {abroad}."),
        Lang::Ru => format!("{line} С иностранного номера: {abroad}."),
    }
}

/// A fixed text in `lang`.
pub fn get(word: Word, lang: Lang) -> String {
    use Word::*;
    let (zh, en, ru) = match word {
        PageTitle => ("诉求办理进度", "Progress of report", "Ход рассмотрения обращения"),
        NotFoundTitle => ("未找到", "Not found", "Не найдено"),
        NotFound => ("没有找到该编号的诉求，请核对回执上的编号。", "No report has this number; check the number on your receipt.", "Обращения с таким номером нет; проверьте номер в квитанции."),
        Department => ("承办部门", "Department", "Ведомство"),
        DueAt => ("答复期限", "Reply due by", "Срок ответа"),
        Handlings => ("重新办理", "Handled again", "Повторное рассмотрение"),
        MergedInto => ("已与以下诉求合并办理，请关注：", "Merged with another report; follow it here:", "Объединено с другим обращением; следите за ним здесь:"),
        Timeline => ("办理过程", "What has happened", "Что уже сделано"),
        PlannedFor => ("计划时间：", "Planned for:", "Запланировано на:"),
        TransferredTo => ("转交：", "Passed to:", "Передано:"),
        NewDueAt => ("新的答复期限：", "New reply date:", "Новый срок ответа:"),
        OnlyFiler => (
            "承办部门已答复办结。只有提交诉求的人可以通过回执中的专属链接评价。",
            "The department reports this resolved. Only the person who filed it can answer, through the private link on their receipt.",
            "Ведомство сообщило о решении. Ответить может только автор обращения — по личной ссылке из квитанции.",
        ),
        AnswerTitle => ("请评价这次办理", "Tell us how it went", "Оцените рассмотрение"),
        SolvedQuestion => ("问题解决了吗？", "Is the problem solved?", "Проблема решена?"),
        SolvedYes => ("已解决", "Yes, it is solved", "Да, решена"),
        SolvedNo => ("没有解决", "No, it is not solved", "Нет, не решена"),
        RatingQuestion => ("您对办理结果满意吗？", "How satisfied are you?", "Насколько вы довольны?"),
        ReasonsQuestion => ("原因（可多选）", "Why (choose any)", "Почему (можно несколько)"),
        CommentLabel => ("说明", "Comment", "Комментарий"),
        CommentHint => (
            "没有解决时请写明情况，我们会重新交办。",
            "If it is not solved, say what is still wrong: the report goes back to the department.",
            "Если проблема не решена, опишите, что осталось: обращение вернётся в ведомство.",
        ),
        AnswerUntil => {
            ("如未在此时间前评价，将视为您认可办理结果：", "If you do not answer by then, the resolution counts as accepted:", "Если вы не ответите до этого срока, решение будет считаться принятым:")
        }
        AnswerQueued => ("已保存在本机，联网后自动提交。", "Saved on this phone; it will be sent when you are online.", "Сохранено на телефоне; отправится, когда появится связь."),
        SendAnswer => ("提交评价", "Send answer", "Отправить ответ"),
        WaitingForYou => ("等待您评价", "Waiting for your answer", "Ждёт вашего ответа"),
        MineTitle => ("我的诉求", "My reports", "Мои обращения"),
        MineEmpty => ("本机还没有提交过诉求。", "No reports were filed from this phone yet.", "С этого телефона ещё не было обращений."),
        Languages => ("语言", "Languages", "Языки"),
        WidgetTitle => ("12345 市民诉求", "12345 City Hotline", "Горячая линия 12345"),
        WhatProblem => ("问题类别", "What is the problem?", "Что случилось?"),
        ChooseCategory => ("请选择…", "Choose…", "Выберите…"),
        Hotline => ("如有疑问，请拨打 12345 热线。", "Questions? Call the 12345 hotline.", "Вопросы? Звоните на линию 12345."),
        CityTime => ("（北京时间）", "(Beijing time)", "(пекинское время)"),
        CityTitle => ("市民诉求概况", "The city's reports at a glance", "Обращения горожан: обзор"),
        CityIntro => (
            "本页只显示汇总数字：少于最低件数的格子不显示，位置只到区县，不显示任何人的原话、照片或联系方式。",
            "This page shows totals only: a cell with fewer reports than the minimum is withheld, places go no finer than the district, and nobody's words, photos or contacts appear.",
            "Здесь только итоговые цифры: ячейки с числом обращений меньше минимума скрыты, место — не точнее района, ничьих слов, фото и контактов нет.",
        ),
        Period => ("统计期间", "Period", "Период"),
        From => ("开始日期", "From", "С"),
        To => ("结束日期", "To", "По"),
        Show => ("查看", "Show", "Показать"),
        Total => ("诉求总数", "Reports in all", "Всего обращений"),
        ByCategory => ("按类别", "By category", "По категориям"),
        ByDistrict => ("按区县", "By district", "По районам"),
        ByWeek => ("按周", "By week", "По неделям"),
        Category => ("类别", "Category", "Категория"),
        District => ("区县", "District", "Район"),
        Week => ("周（起始日）", "Week (from)", "Неделя (с)"),
        Reports => ("诉求数", "Reports", "Обращения"),
        MedianHours => ("办结用时中位数（小时）", "Median time to resolution (hours)", "Медианное время до решения (ч)"),
        WithinLimit => ("按期办结率", "Resolved within the time limit", "Решено в срок"),
        Satisfaction => ("满意率", "Satisfied", "Довольны"),
        Withheld => ("件数过少，不显示", "too few to show", "слишком мало, скрыто"),
        NoDistrict => ("未定区县", "District not known", "Район не указан"),
        OpenData => ("开放数据", "Open data", "Открытые данные"),
        LargestClasses => ("集中反映的问题", "Problems many residents reported", "Проблемы, о которых сообщали многие"),
        Where => ("范围", "Where", "Где"),
        ResolvedOfThem => ("其中已办结", "Of them resolved", "Из них решено"),
        OneSubject => ("同一经营者或车辆", "One business or vehicle", "Одна компания или машина"),
        NearbyTitle => ("附近的同类诉求", "The same problem nearby?", "Та же проблема рядом?"),
        NearbyIntro => (
            "如果是同一个问题，请点“这也是我的问题”，不用重复提交：承办部门会看到有多少居民反映，您也能在“我的诉求”里跟进。",
            "If one of these is your problem, press \u{201c}This is my problem too\u{201d} instead of filing it again: the department sees how many residents have it, and you can follow it in My reports.",
            "Если это ваша проблема, нажмите «Это и моя проблема» вместо новой заявки: ведомство увидит, сколько жителей с ней столкнулись, а вы сможете следить за ней в «Моих обращениях».",
        ),
        NearbyNone => ("附近暂时没有尚未办结的同类诉求。", "No open report of this kind nearby.", "Рядом нет открытых обращений такого рода."),
        MeToo => ("这也是我的问题", "This is my problem too", "Это и моя проблема"),
        MeTooPhoto => ("照片（可选，仅承办部门可见）", "Photo (optional; only the department sees it)", "Фото (необязательно; его увидит только ведомство)"),
        SupportPhotoOffline => (
            "照片需要联网才能发送。请联网后再提交，或去掉照片只提交支持。",
            "A photo needs a connection to be sent. Send again when you are online, or remove the photo to send your support now.",
            "Фото можно отправить только при подключении к сети. Отправьте снова, когда появится связь, или уберите фото, чтобы поддержать сейчас.",
        ),
        MeTooComment => ("补充说明（可选，只有承办部门能看到）", "Anything to add (optional, only the department sees it)", "Что добавить (необязательно, видит только ведомство)"),
        FileNewAnyway => ("不是同一个问题，继续提交新诉求", "Not the same problem: file a new report", "Другая проблема: подать новое обращение"),
        DepartmentReply => ("部门答复：", "The department replied:", "Ответ ведомства:"),
        SupportQueued => ("已保存在本机，联网后自动提交。", "Saved on this phone; it will be sent when you are online.", "Сохранено на телефоне; отправится, когда появится связь."),
        BadDates => (
            "日期请写成 YYYY-MM-DD，开始不晚于结束，期间不超过 366 天。",
            "Write dates as YYYY-MM-DD, the start no later than the end, at most 366 days apart.",
            "Укажите даты как ГГГГ-ММ-ДД: начало не позже конца, не больше 366 дней.",
        ),
    };
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
        Lang::Ru => ru,
    }
    .to_owned()
}

/// A language's own name, for the language links.
pub fn language_name(tag: &str) -> &'static str {
    match tag {
        "en" => "English",
        "ru" => "Русский",
        _ => "中文",
    }
}

/// A status as a short name (the "my reports" list).
pub fn status_name(status: Status, lang: Lang) -> String {
    let (zh, en, ru) = match status {
        Status::Received => ("已受理", "Received", "Получено"),
        Status::Forwarded => ("已转交承办部门", "Passed to the department", "Передано в ведомство"),
        Status::Accepted => ("部门已接收", "Accepted by the department", "Принято ведомством"),
        Status::InProgress => ("正在办理", "In progress", "В работе"),
        Status::Resolved => ("部门已答复办结", "Closed by the department", "Ведомство сообщило о решении"),
        Status::Rejected => ("不予受理", "Declined", "Отклонено"),
        Status::Reopened => ("已重新交办", "Sent back to the department", "Возвращено в ведомство"),
        Status::Closed => ("已结案", "Finished", "Завершено"),
        Status::Duplicate => ("已合并办理", "Merged with another report", "Объединено с другим"),
    };
    pick(lang, zh, en, ru)
}

/// The status as one sentence that matches what happened.
pub fn status_sentence(status: &ReportStatus, lang: Lang) -> String {
    let closed_by_silence = status.timeline.last().is_some_and(|event| event.step == Step::Closed && event.answer.as_ref().is_some_and(|answer| answer.solved.is_none()));
    let (zh, en, ru) = match status.status {
        Status::Resolved => ("承办部门已答复办结，等待您确认问题是否解决。", "The department reports it resolved and waits for your answer.", "Ведомство сообщило о решении и ждёт вашего ответа."),
        Status::Closed if closed_by_silence => (
            "您未在期限内评价，已视为认可办理结果，诉求已结案。",
            "No answer came in time, so the resolution counted as accepted; the report is finished.",
            "Ответа в срок не было, поэтому решение считается принятым; обращение завершено.",
        ),
        Status::Closed => ("您已确认问题解决，诉求已结案。感谢您的评价！", "You confirmed it is solved; the report is finished. Thank you!", "Вы подтвердили решение; обращение завершено. Спасибо!"),
        Status::Reopened => (
            "您反映问题没有解决，诉求已重新交承办部门办理。",
            "You said it is not solved: the report went back to the department.",
            "Вы сообщили, что проблема не решена: обращение возвращено в ведомство.",
        ),
        Status::Rejected => ("承办部门不予受理，原因见下方答复。", "The department declined it; its reason is below.", "Ведомство отклонило обращение; причина ниже."),
        Status::Duplicate => {
            ("该诉求已与同一问题的诉求合并办理。", "It is handled together with another report of the same problem.", "Оно рассматривается вместе с другим обращением о той же проблеме.")
        }
        Status::Received | Status::Forwarded | Status::Accepted | Status::InProgress => {
            let name = status_name(status.status, lang);
            return match lang {
                Lang::ZhCn => format!("当前状态：{name}"),
                Lang::En => format!("Status now: {name}"),
                Lang::Ru => format!("Сейчас: {name}"),
            };
        }
    };
    pick(lang, zh, en, ru)
}

/// One step of the timeline as a name.
pub fn step(step: Step, lang: Lang) -> String {
    let (zh, en, ru) = match step {
        Step::Received => ("已受理", "Received", "Получено"),
        Step::Forwarded => ("已转交承办部门", "Passed to the department", "Передано в ведомство"),
        Step::Accepted => ("部门已接收", "Accepted by the department", "Принято ведомством"),
        Step::InProgress => ("办理中", "In progress", "В работе"),
        Step::Planned => ("已制定办理计划", "Work planned", "Работы запланированы"),
        Step::Transferred => ("已转交其他部门", "Passed to another department", "Передано в другое ведомство"),
        Step::DueChanged => ("答复期限调整", "Reply date changed", "Срок ответа изменён"),
        Step::Resolved => ("部门答复办结", "Department reports it resolved", "Ведомство сообщило о решении"),
        Step::Rejected => ("不予受理", "Declined", "Отклонено"),
        Step::Duplicate => ("合并办理", "Merged with another report", "Объединено с другим обращением"),
        Step::Reopened => ("重新交办", "Sent back to the department", "Возвращено в ведомство"),
        Step::Closed => ("结案", "Finished", "Завершено"),
        Step::Supervised => ("转交督办", "Handed to supervision", "Передано на контроль"),
        Step::Supported => ("又有居民反映同一问题", "Another resident has the same problem", "Ещё один житель сообщил о той же проблеме"),
    };
    pick(lang, zh, en, ru)
}

/// How many times the resident sent it back.
pub fn handlings(count: u32, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => format!("已重新交办 {count} 次"),
        Lang::En => format!("Sent back {count} {}", if count == 1 { "time" } else { "times" }),
        Lang::Ru => format!(
            "Возвращено {count} {}",
            match lianxin_contract::i18n::plural(lang, u64::from(count)) {
                lianxin_contract::i18n::Plural::One => "раз",
                lianxin_contract::i18n::Plural::Few => "раза",
                lianxin_contract::i18n::Plural::Many => "раз",
            }
        ),
    }
}

/// Why and to whom the report went to supervision.
pub fn supervision(reason: EscalationReason, office: &str, lang: Lang) -> String {
    match (reason, lang) {
        (EscalationReason::Overdue, Lang::ZhCn) => format!("超过答复期限仍未办结，已转交{office}督办。"),
        (EscalationReason::Overdue, Lang::En) => format!("Not resolved by the reply date: handed to the supervising office ({office})."),
        (EscalationReason::Overdue, Lang::Ru) => format!("Не решено к сроку: передано на контроль ({office})."),
        (EscalationReason::UnsolvedTwice, Lang::ZhCn) => format!("两次办理后问题仍未解决，已转交{office}督办。"),
        (EscalationReason::UnsolvedTwice, Lang::En) => format!("Still not solved after two handlings: handed to the supervising office ({office})."),
        (EscalationReason::UnsolvedTwice, Lang::Ru) => format!("Не решено после двух рассмотрений: передано на контроль ({office})."),
    }
}

/// The resident's answer on a timeline step.
pub fn answer_line(answer: &AnswerShown, lang: Lang) -> String {
    match (answer.solved, answer.rating) {
        (None, _) => pick(lang, "未在期限内评价，视为认可办理结果", "No answer in time: counted as accepted", "Нет ответа в срок: считается принятым"),
        (Some(solved), rating) => {
            let verdict = if solved { pick(lang, "已解决", "Solved", "Решено") } else { pick(lang, "没有解决", "Not solved", "Не решено") };
            match rating {
                Some(rating) => format!("{verdict} · {}", rating.label(lang)),
                None => verdict,
            }
        }
    }
}

fn pick(lang: Lang, zh: &str, en: &str, ru: &str) -> String {
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
        Lang::Ru => ru,
    }
    .to_owned()
}

/// How many residents support a report.
pub fn supporters(count: u32, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => format!("另有 {count} 位居民反映了同一问题"),
        Lang::En => format!("{count} more {} the same problem", if count == 1 { "resident has" } else { "residents have" }),
        Lang::Ru => format!(
            "Ещё {count} {} о той же проблеме",
            match lianxin_contract::i18n::plural(lang, u64::from(count)) {
                lianxin_contract::i18n::Plural::One => "житель сообщил",
                _ => "жителей сообщили",
            }
        ),
    }
}

/// Where and how old a nearby report is.
pub fn distance_and_age(metres: u32, days: i64, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => {
            let age = if days == 0 { "今天".to_owned() } else { format!("{days} 天前") };
            format!("约 {metres} 米 · {age}")
        }
        Lang::En => {
            let age = match days {
                0 => "today".to_owned(),
                1 => "1 day ago".to_owned(),
                days => format!("{days} days ago"),
            };
            format!("about {metres} m away · {age}")
        }
        Lang::Ru => {
            let age = match days {
                0 => "сегодня".to_owned(),
                days => format!(
                    "{days} {} назад",
                    match lianxin_contract::i18n::plural(lang, days.unsigned_abs()) {
                        lianxin_contract::i18n::Plural::One => "день",
                        lianxin_contract::i18n::Plural::Few => "дня",
                        lianxin_contract::i18n::Plural::Many => "дней",
                    }
                ),
            };
            format!("примерно в {metres} м · {age}")
        }
    }
}

/// The report is handled together with its class.
pub fn together_with(others: u32, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => format!("与附近或同一对象的另外 {others} 条同类诉求一并办理"),
        Lang::En => format!("Handled together with {others} similar {}", if others == 1 { "report" } else { "reports" }),
        Lang::Ru => format!(
            "Рассматривается вместе с ещё {others} {}",
            match lianxin_contract::i18n::plural(lang, u64::from(others)) {
                lianxin_contract::i18n::Plural::One => "похожим обращением",
                _ => "похожими обращениями",
            }
        ),
    }
}
