//! The widget's own words (everything not from the catalog) in the three languages: fixed
//! texts ([`Text`]) and sentences with a number in them ([`Counted`]), which pick the
//! plural form each language needs — a number is never glued to a label.

use leptos::prelude::{Get, RwSignal};
use lianxin_contract::Lang;
use lianxin_contract::i18n::{Plural, plural};
use lianxin_contract::report::Status;

/// A piece of interface text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Text {
    Title,
    Loading,
    CatalogFailed,
    Category,
    ChooseCategory,
    Kind,
    Description,
    DescriptionHelp,
    Photo,
    District,
    ChooseDistrict,
    Address,
    Submit,
    TakePhoto,
    ChoosePhotos,
    Next,
    ReviewTitle,
    ReviewHelp,
    Change,
    Anonymous,
    Sending,
    FixErrors,
    SendFailed,
    Received,
    TrackingNo,
    KeepNumber,
    NewReport,
    SearchCategory,
    SearchHint,
    PhotoUnreadable,
    PreparingPhotos,
    Remove,
    Where,
    UseMyLocation,
    Locating,
    LocateFailed,
    ContactLegend,
    ContactLegendRequired,
    Name,
    Phone,
    Consent,
    CheckStatus,
    StatusOf,
    NotFoundNumber,
    Waiting,
    WaitingHelp,
    StatusCheckFailed,
}

/// `text` in the resident's current language, as something a view can show and keep up to
/// date. Every use shares this one closure type, so the widget carries one copy of the code
/// that renders it rather than one per string.
pub fn tr(lang: RwSignal<Lang>, text: Text) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    move || t(lang.get(), text)
}

/// `text` in `lang`.
pub fn t(lang: Lang, text: Text) -> &'static str {
    use Text::*;
    match (text, lang) {
        (Title, Lang::ZhCn) => "12345 市民诉求",
        (Title, Lang::En) => "12345 City Hotline",
        (Title, Lang::Ru) => "Горячая линия 12345",
        (Loading, Lang::ZhCn) => "正在加载…",
        (Loading, Lang::En) => "Loading…",
        (Loading, Lang::Ru) => "Загрузка…",
        (CatalogFailed, Lang::ZhCn) => "无法加载问题类别，请检查网络后刷新。",
        (CatalogFailed, Lang::En) => "Could not load the categories; check your connection and reload.",
        (CatalogFailed, Lang::Ru) => "Не удалось загрузить категории; проверьте подключение и обновите страницу.",
        (Category, Lang::ZhCn) => "问题类别",
        (Category, Lang::En) => "What is the problem?",
        (Category, Lang::Ru) => "Что случилось?",
        (ChooseCategory, Lang::ZhCn) => "请选择…",
        (ChooseCategory, Lang::En) => "Choose…",
        (ChooseCategory, Lang::Ru) => "Выберите…",
        (Kind, Lang::ZhCn) => "诉求类型",
        (Kind, Lang::En) => "Type of request",
        (Kind, Lang::Ru) => "Тип обращения",
        (Description, Lang::ZhCn) => "问题描述",
        (Description, Lang::En) => "Describe the problem",
        (Description, Lang::Ru) => "Опишите проблему",
        (DescriptionHelp, Lang::ZhCn) => "发生了什么、在哪里、从什么时候开始",
        (DescriptionHelp, Lang::En) => "What happened, where, and since when",
        (DescriptionHelp, Lang::Ru) => "Что случилось, где и с какого времени",
        (Photo, Lang::ZhCn) => "照片",
        (Photo, Lang::En) => "Photo",
        (Photo, Lang::Ru) => "Фото",
        (District, Lang::ZhCn) => "所在区",
        (District, Lang::En) => "District",
        (District, Lang::Ru) => "Район",
        (ChooseDistrict, Lang::ZhCn) => "请选择区",
        (ChooseDistrict, Lang::En) => "Choose a district",
        (ChooseDistrict, Lang::Ru) => "Выберите район",
        (Address, Lang::ZhCn) => "详细地址或地标",
        (Address, Lang::En) => "Address or landmark",
        (Address, Lang::Ru) => "Адрес или ориентир",
        (Submit, Lang::ZhCn) => "提交",
        (Submit, Lang::En) => "Send",
        (Submit, Lang::Ru) => "Отправить",
        (TakePhoto, Lang::ZhCn) => "📷 拍照",
        (TakePhoto, Lang::En) => "📷 Take a photo",
        (TakePhoto, Lang::Ru) => "📷 Сфотографировать",
        (ChoosePhotos, Lang::ZhCn) => "🖼 从相册选择",
        (ChoosePhotos, Lang::En) => "🖼 Choose from the gallery",
        (ChoosePhotos, Lang::Ru) => "🖼 Выбрать из галереи",
        (Next, Lang::ZhCn) => "下一步：核对",
        (Next, Lang::En) => "Next: check",
        (Next, Lang::Ru) => "Далее: проверить",
        (ReviewTitle, Lang::ZhCn) => "请核对您的诉求",
        (ReviewTitle, Lang::En) => "Check your report",
        (ReviewTitle, Lang::Ru) => "Проверьте обращение",
        (ReviewHelp, Lang::ZhCn) => "以下内容将发送给负责部门。确认无误后点击“提交”。",
        (ReviewHelp, Lang::En) => "This is what the responsible department will receive. If it is right, press Send.",
        (ReviewHelp, Lang::Ru) => "Это получит ответственное ведомство. Если всё верно, нажмите «Отправить».",
        (Change, Lang::ZhCn) => "返回修改",
        (Change, Lang::En) => "Change",
        (Change, Lang::Ru) => "Изменить",
        (Anonymous, Lang::ZhCn) => "匿名",
        (Anonymous, Lang::En) => "Anonymous",
        (Anonymous, Lang::Ru) => "Анонимно",
        (Sending, Lang::ZhCn) => "正在提交…",
        (Sending, Lang::En) => "Sending…",
        (Sending, Lang::Ru) => "Отправка…",
        (FixErrors, Lang::ZhCn) => "请修改标出的内容后再提交。",
        (FixErrors, Lang::En) => "Please correct the marked fields and send again.",
        (FixErrors, Lang::Ru) => "Исправьте отмеченные поля и отправьте снова.",
        (SendFailed, Lang::ZhCn) => "提交失败：",
        (SendFailed, Lang::En) => "Sending failed:",
        (SendFailed, Lang::Ru) => "Не удалось отправить:",
        (Received, Lang::ZhCn) => "已收到您的诉求",
        (Received, Lang::En) => "Your report has been received",
        (Received, Lang::Ru) => "Ваше обращение получено",
        (TrackingNo, Lang::ZhCn) => "受理编号",
        (TrackingNo, Lang::En) => "Tracking number",
        (TrackingNo, Lang::Ru) => "Номер обращения",
        (KeepNumber, Lang::ZhCn) => "请保存此编号，用于查询办理进度。",
        (KeepNumber, Lang::En) => "Keep this number to check the progress later.",
        (KeepNumber, Lang::Ru) => "Сохраните этот номер, чтобы узнать о ходе рассмотрения.",
        (NewReport, Lang::ZhCn) => "再反映一个问题",
        (NewReport, Lang::En) => "Report another problem",
        (NewReport, Lang::Ru) => "Сообщить о другой проблеме",
        (SearchCategory, Lang::ZhCn) => "搜索问题",
        (SearchCategory, Lang::En) => "Search for your problem",
        (SearchCategory, Lang::Ru) => "Поиск проблемы",
        (SearchHint, Lang::ZhCn) => "例如：井盖、出租车、噪音",
        (SearchHint, Lang::En) => "e.g. taxi, noise, manhole",
        (SearchHint, Lang::Ru) => "например: такси, шум, люк",
        (PhotoUnreadable, Lang::ZhCn) => "无法读取这张照片，请选择 JPEG 或 PNG 照片。",
        (PhotoUnreadable, Lang::En) => "This photo cannot be read; please choose a JPEG or PNG photo.",
        (PhotoUnreadable, Lang::Ru) => "Не удаётся прочитать фото; выберите JPEG или PNG.",
        (PreparingPhotos, Lang::ZhCn) => "正在处理照片…",
        (PreparingPhotos, Lang::En) => "Preparing photos…",
        (PreparingPhotos, Lang::Ru) => "Обработка фото…",
        (Remove, Lang::ZhCn) => "删除",
        (Remove, Lang::En) => "Remove",
        (Remove, Lang::Ru) => "Удалить",
        (Where, Lang::ZhCn) => "问题地点",
        (Where, Lang::En) => "Where is it?",
        (Where, Lang::Ru) => "Где это?",
        (UseMyLocation, Lang::ZhCn) => "📍 使用我的位置",
        (UseMyLocation, Lang::En) => "📍 Use my location",
        (UseMyLocation, Lang::Ru) => "📍 Моё местоположение",
        (Locating, Lang::ZhCn) => "正在定位…",
        (Locating, Lang::En) => "Locating…",
        (Locating, Lang::Ru) => "Определяем место…",
        (LocateFailed, Lang::ZhCn) => "无法获取您的位置。请选择所在区并填写地址或附近地标。",
        (LocateFailed, Lang::En) => "Your location is not available. Please choose the district and type the address or a landmark.",
        (LocateFailed, Lang::Ru) => "Не удалось определить место. Выберите район и укажите адрес или ориентир.",
        (ContactLegend, Lang::ZhCn) => "联系方式（可选，便于回访）",
        (ContactLegend, Lang::En) => "Contact details (optional, for a call back)",
        (ContactLegend, Lang::Ru) => "Контакты (необязательно, для обратной связи)",
        (ContactLegendRequired, Lang::ZhCn) => "联系方式（必填，承办部门将回访您）",
        (ContactLegendRequired, Lang::En) => "Contact details (required: the department will call you back)",
        (ContactLegendRequired, Lang::Ru) => "Контакты (обязательно: ведомство свяжется с вами)",
        (Name, Lang::ZhCn) => "称呼",
        (Name, Lang::En) => "Name",
        (Name, Lang::Ru) => "Имя",
        (Phone, Lang::ZhCn) => "手机号",
        (Phone, Lang::En) => "Phone",
        (Phone, Lang::Ru) => "Телефон",
        (Consent, Lang::ZhCn) => "我同意将联系方式提供给承办部门，仅用于回访本次诉求；诉求办结 180 天后删除。",
        (Consent, Lang::En) => "I agree that the department handling this report may use my contact details only to reply about it; they are deleted 180 days after it is closed.",
        (Consent, Lang::Ru) => "Даю согласие: ведомство использует мои контакты только для ответа по этому обращению; они удаляются через 180 дней после его закрытия.",
        (CheckStatus, Lang::ZhCn) => "查询办理进度",
        (CheckStatus, Lang::En) => "Check progress",
        (CheckStatus, Lang::Ru) => "Узнать статус",
        (StatusOf, Lang::ZhCn) => "办理进度",
        (StatusOf, Lang::En) => "Progress",
        (StatusOf, Lang::Ru) => "Ход рассмотрения",
        (NotFoundNumber, Lang::ZhCn) => "没有找到该编号，请核对后重试。",
        (NotFoundNumber, Lang::En) => "No report has this number; check it and try again.",
        (NotFoundNumber, Lang::Ru) => "Обращение с таким номером не найдено; проверьте номер.",
        (Waiting, Lang::ZhCn) => "暂时无法提交，诉求已保存在本机",
        (Waiting, Lang::En) => "Not sent yet: your report is saved on this phone",
        (Waiting, Lang::Ru) => "Пока не отправлено: обращение сохранено на телефоне",
        (WaitingHelp, Lang::ZhCn) => "网络或服务恢复后会自动发送，只会提交一次。您也可以稍后重新打开本页面。",
        (WaitingHelp, Lang::En) => "It will be sent automatically, once, when the network or the service is back, or when you open this page again.",
        (StatusCheckFailed, Lang::ZhCn) => "暂时无法查询进度，请检查网络后重试。",
        (StatusCheckFailed, Lang::En) => "The progress could not be checked; check your connection and try again.",
        (StatusCheckFailed, Lang::Ru) => "Не удалось узнать статус; проверьте подключение и попробуйте снова.",
        (WaitingHelp, Lang::Ru) => "Оно будет отправлено автоматически и один раз, когда восстановится связь или сервис, или когда вы снова откроете страницу.",
    }
}

/// A status in words.
pub fn status_label(status: Status, lang: Lang) -> &'static str {
    match (status, lang) {
        (Status::Received, Lang::ZhCn) => "已受理",
        (Status::Received, Lang::En) => "Received",
        (Status::Received, Lang::Ru) => "Получено",
        (Status::Forwarded, Lang::ZhCn) => "已转交承办部门",
        (Status::Forwarded, Lang::En) => "Passed to the department",
        (Status::Forwarded, Lang::Ru) => "Передано в ведомство",
        (Status::Accepted, Lang::ZhCn) => "部门已接收",
        (Status::Accepted, Lang::En) => "Accepted by the department",
        (Status::Accepted, Lang::Ru) => "Принято ведомством",
        (Status::InProgress, Lang::ZhCn) => "正在办理",
        (Status::InProgress, Lang::En) => "In progress",
        (Status::InProgress, Lang::Ru) => "В работе",
        (Status::Resolved, Lang::ZhCn) => "已办结",
        // 办结: the department closed the case — not necessarily fixed (the resident says so).
        (Status::Resolved, Lang::En) => "Closed by the department",
        (Status::Resolved, Lang::Ru) => "Закрыто ведомством",
        (Status::Rejected, Lang::ZhCn) => "不予受理",
        (Status::Rejected, Lang::En) => "Declined",
        (Status::Rejected, Lang::Ru) => "Отклонено",
    }
}

/// A sentence about a number of things.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    /// Categories the search found.
    CategoriesFound,
    /// The most photos a category takes, shown beside the photo field.
    PhotosAtMost,
    /// Said when a resident tries to add one photo more than allowed.
    PhotoLimitReached,
    /// How precise the position is, in metres.
    AccurateTo,
    /// Open reports of the same kind nearby.
    NearbyReports,
    /// Reports that waited on the phone and have now been received.
    SentLater,
}

/// The sentence `counted` says of `n`, in `lang`.
pub fn counted(lang: Lang, counted: Counted, n: u64) -> String {
    use Counted::*;
    let form = plural(lang, n);
    let pick = |one: &'static str, few: &'static str, many: &'static str| match form {
        Plural::One => one,
        Plural::Few => few,
        Plural::Many => many,
    };
    match (counted, lang) {
        (CategoriesFound, Lang::ZhCn) => format!("找到 {n} 个类别"),
        (CategoriesFound, Lang::En) => format!("{n} {} found", pick("category", "categories", "categories")),
        (CategoriesFound, Lang::Ru) => format!("{} {n} {}", pick("Найдена", "Найдено", "Найдено"), pick("категория", "категории", "категорий")),
        (PhotosAtMost, Lang::ZhCn) => format!("最多 {n} 张"),
        (PhotosAtMost, Lang::En) => format!("up to {n} {}", pick("photo", "photos", "photos")),
        (PhotosAtMost, Lang::Ru) => format!("не более {n}"),
        (PhotoLimitReached, Lang::ZhCn) => format!("最多可以附 {n} 张照片"),
        (PhotoLimitReached, Lang::En) => format!("You can add up to {n} {}", pick("photo", "photos", "photos")),
        (PhotoLimitReached, Lang::Ru) => format!("Можно приложить не более {n} фото"),
        (AccurateTo, Lang::ZhCn) => format!("已定位，精度约 {n} 米"),
        (AccurateTo, Lang::En) => format!("Location found (accurate to about {n} m)"),
        (AccurateTo, Lang::Ru) => format!("Место определено (точность около {n} м)"),
        (NearbyReports, Lang::ZhCn) => format!("附近已有 {n} 条尚未办结的同类诉求"),
        (NearbyReports, Lang::En) => format!("{n} open {} of this kind nearby", pick("report", "reports", "reports")),
        (NearbyReports, Lang::Ru) => format!("Рядом {n} {} о том же", pick("открытое обращение", "открытых обращения", "открытых обращений")),
        (SentLater, Lang::ZhCn) => format!("离线时保存的 {n} 条诉求已送达，受理编号："),
        (SentLater, Lang::En) => format!(
            "{} saved while offline {} been received. {}:",
            pick("The report", "The reports", "The reports"),
            pick("has", "have", "have"),
            pick("Tracking number", "Tracking numbers", "Tracking numbers")
        ),
        (SentLater, Lang::Ru) => format!(
            "{} без сети, {}. {}:",
            pick("Обращение, сохранённое", "Обращения, сохранённые", "Обращения, сохранённые"),
            pick("получено", "получены", "получены"),
            pick("Номер", "Номера", "Номера")
        ),
    }
}
