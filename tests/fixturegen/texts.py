"""Text written for the project's test fixtures (Apache-2.0, like the rest of jawebcorpus).

The Japanese articles are meant to be *kept* by the whole pipeline: each has at least 500
Japanese letters, hiragana well over 20 % of them, sentences of 20–90 characters ending in 。,
no repeated line, no NG word, and only JIS X 0208 characters so that every one of them encodes
in Shift_JIS, EUC-JP and ISO-2022-JP as well as UTF-8.  ``tests/test_own_fixtures.py`` checks
these properties, so a later edit cannot silently break what the other tests rely on.

The other languages are short articles and sentences for the pages Japanese detection and
language ID must reject, and for the CJK encodings whose bytes resemble Japanese ones.
"""

from __future__ import annotations

__all__ = [
    "JA_ARTICLES", "ja_sentences", "sample_sentences", "ZH_HANS", "ZH_HANT", "KO", "KO_CHAT", "OTHER_LANGUAGES",
    "NAV", "SIDEBAR", "FOOTER", "RELATED", "COMMENTS", "COOKIE", "SHORT_NOTICE",
]

#: name → (title, paragraphs); a paragraph is a list of sentences.
JA_ARTICLES: dict[str, tuple[str, list[list[str]]]] = {
    "library": ("駅前図書館の朗読会に行ってきました", [
        [
            "先月の第二土曜日に、駅前の市立図書館で子ども向けの朗読会が開かれました。",
            "会場は二階の多目的室で、床にはやわらかいマットが敷かれていました。",
            "集まったのは三歳から九歳までの子どもたちと、その家族あわせて四十人ほどです。",
        ],
        [
            "最初に読まれたのは、山の上に住むきつねが町へ買い物に行くお話でした。",
            "読み手のボランティアさんは、きつねの声を少し高くして楽しそうに読んでいました。",
            "子どもたちは身を乗り出して、ページがめくられるたびに小さな声を上げていました。",
            "二冊目は、雨の日に傘をなくした男の子が主人公の静かな絵本でした。",
            "窓の外でも雨が降っていたので、お話と景色が重なって不思議な気持ちになりました。",
        ],
        [
            "途中には手遊びの時間があり、みんなで指を動かしながら短い歌を歌いました。",
            "後ろで見ていたおじいさんも、いつの間にか一緒に手をたたいていました。",
            "最後の一冊が終わると、子どもたちから大きな拍手がわき起こりました。",
            "朗読会のあとは、読んだ絵本を借りられるように入り口の机に並べてありました。",
            "貸し出しの列には、さっきまで床に座っていた子どもたちがずらりと並びました。",
        ],
        [
            "図書館の方によると、この会は十年以上前から毎月続けられているそうです。",
            "最近は読み手を希望する高校生も増えて、練習会を開くこともあるとのことでした。",
            "次回は来月の第二土曜日で、秋の虫が出てくるお話を選んでいると聞きました。",
            "申し込みはいらないので、近くに住んでいる方は気軽にのぞいてみてください。",
        ],
    ]),
    "cycling": ("湖のまわりを自転車で一周しました", [
        [
            "連休の初日に、友人と二人で湖のまわりを自転車で一周してきました。",
            "一周はおよそ四十キロで、ゆっくり走っても一日で十分に回れる距離です。",
            "朝八時に駅の近くの貸し自転車屋さんで、かごの付いた自転車を借りました。",
            "お店の方が空気を入れてくれて、坂道では無理をしないようにと教えてくれました。",
        ],
        [
            "走りはじめてすぐに、湖の向こうに雪の残る山が見えてきました。",
            "風はまだ少し冷たかったのですが、日なたに出るとすぐに体が温まりました。",
            "十キロほど走ったところで、湖に面した小さな公園で休けいしました。",
            "ベンチに座って水を飲んでいると、白い鳥が何羽も水面におりてきました。",
            "昼ごはんは、湖のほとりにある食堂で名物の魚の定食を食べました。",
            "焼き魚はふっくらしていて、添えられたみそ汁も具がたっぷりでした。",
        ],
        [
            "午後は向かい風になり、ペダルをこぐ足がだんだん重くなってきました。",
            "それでも、ところどころに咲いている菜の花を見ると元気が出ました。",
            "最後の坂を登りきると、朝に出発した駅の屋根がようやく見えてきました。",
            "自転車を返しに行くと、お店の方が笑顔で「おかえりなさい」と迎えてくれました。",
            "走った距離を地図で確かめると、寄り道も入れて四十三キロになっていました。",
        ],
        [
            "足は少し痛くなりましたが、湖の色が時間ごとに変わるのを見られて満足です。",
            "次は紅葉の季節に、もう少し早い時間から走ってみたいと話しています。",
            "これから出かける方は、日焼け止めと雨具を忘れずに持っていくと安心です。",
        ],
    ]),
    "miso": ("公民館で味噌を仕込みました", [
        [
            "冬のあいだに一年分の味噌を仕込もうと、地区の公民館で味噌づくりの会がありました。",
            "材料は大豆と米こうじと塩だけで、どれも近くの農家さんから分けていただいたものです。",
            "大豆は前の日の朝から水につけておき、当日は大きな鍋でやわらかくなるまで煮ました。",
            "煮えた大豆を指でつぶしてみて、すっとつぶれれば火を止める合図だと教わりました。",
        ],
        [
            "熱いうちに袋に入れて、みんなで足で踏んだり手でもんだりしてつぶしていきます。",
            "そのあいだに、こうじと塩をよく混ぜ合わせて「塩切りこうじ」を作っておきました。",
            "つぶした大豆とこうじを合わせたら、手のひらで丸めてだんごの形にします。",
            "だんごを容器に投げ入れるようにして詰めると、中の空気がうまく抜けるそうです。",
            "子どもたちはこの作業がいちばん楽しかったようで、何度も投げたがっていました。",
        ],
        [
            "表面を平らにならしたら、塩をうすくふって、ラップでぴったりおおいます。",
            "最後に重しをのせて、ふたに仕込んだ日付と名前を書いたら作業はおしまいです。",
            "このまま涼しい場所に置いて、夏をこえるまでじっくり寝かせることになります。",
            "先生によると、秋ごろには色が濃くなって、香りもぐっとよくなるとのことでした。",
            "途中でかびが出ても、そこだけ取りのぞけば心配はいらないと教えてもらいました。",
        ],
        [
            "作業のあとは、去年みんなで仕込んだ味噌を使ったみそ汁がふるまわれました。",
            "同じ材料なのに家ごとに味が少しずつちがうのが、手づくりのおもしろいところです。",
            "来年は大豆を育てるところから始めてみようという声も上がっていました。",
            "自分で作った味噌が食べられる日を、今から楽しみに待っているところです。",
        ],
    ]),
    "stars": ("高原で星空観察会に参加しました", [
        [
            "夏休みの終わりに、高原の少年自然の家で星空観察会が開かれました。",
            "夕方に到着したときは雲が多く、本当に星が見えるのかとみんな心配していました。",
            "晩ごはんを食べているうちに雲が流れて、八時ごろにはすっかり晴れ上がりました。",
            "明かりを消した広場に寝ころぶと、思っていたよりずっとたくさんの星が見えました。",
        ],
        [
            "案内をしてくれたのは、近くの大学で天文学を学んでいる学生さんたちです。",
            "まずは北の空にある北斗七星を見つけて、そこから北極星をさがす方法を教わりました。",
            "南の低い空には赤くかがやく星があり、さそり座の心臓にあたる星だと聞きました。",
            "天の川は東の山の上から頭の上を通って、南の地平線まで続いているように見えました。",
            "望遠鏡では土星をのぞかせてもらい、小さいながらも輪がはっきり見えました。",
            "順番を待つ列からは、見終わった人の「本当に輪がある」という声が聞こえてきました。",
        ],
        [
            "途中で流れ星がひとつ流れて、あちこちから歓声が上がりました。",
            "願いごとを言う前に消えてしまったと、くやしがっている子もいました。",
            "夜がふけるにつれて空気が冷えてきたので、持ってきた上着が役に立ちました。",
            "学生さんは、星の光が何百年もかけて届いていることを、わかりやすく話してくれました。",
            "今見ている光が生まれたころの地上を想像すると、なんだか気が遠くなりそうです。",
        ],
        [
            "観察会は十時に終わり、みんなで懐中電灯の赤い光をたよりに宿舎へもどりました。",
            "町の明かりのとどかない場所で見る空は、それだけで特別なものに感じられました。",
            "次の新月のころにもう一度開かれるそうなので、家族をさそって参加するつもりです。",
        ],
    ]),
    "sento": ("商店街の銭湯が七十周年をむかえました", [
        [
            "商店街のはずれにある銭湯が、今年で創業七十年をむかえました。",
            "入り口ののれんをくぐると、木の下駄箱と番台が昔のままの姿で残っています。",
            "番台に座っているのは三代目のご主人で、毎日午後三時にお店を開けています。",
            "脱衣所の天井は高く、古い扇風機がゆっくりと回っているのが見えました。",
        ],
        [
            "浴室の壁には大きな富士山の絵が描かれていて、湯船につかりながらながめられます。",
            "この絵は十年ほど前に、専門の絵師さんが一日で描き直したものだそうです。",
            "お湯は少し熱めで、最初は足先からそっと入らないと声が出てしまいます。",
            "夕方になると、仕事帰りの人や近所のお年寄りで洗い場がにぎやかになります。",
            "顔なじみのお客さんどうしが、天気や野球の話をしているのを聞くのも楽しみです。",
            "湯上がりには、冷蔵ケースに並んだびん入りの牛乳を飲むのが定番になっています。",
        ],
        [
            "ご主人によると、燃料の値上がりで経営は決して楽ではないとのことでした。",
            "それでも、毎日来てくれるお客さんの顔を見ると休めないと笑っていました。",
            "最近は若い人たちが写真を撮りに来ることも増え、週末は行列ができる日もあります。",
            "月に一度は、季節のくだものや薬草を浮かべた変わり湯の日が設けられています。",
            "先月はゆずを浮かべたお湯で、浴室じゅうにさわやかな香りが広がっていました。",
        ],
        [
            "帰り道、商店街の明かりの下を歩くと、体の芯までぽかぽかしているのを感じました。",
            "家のお風呂では味わえないこの気持ちよさを、これからも大切にしたいと思います。",
        ],
    ]),
    "pottery": ("となり町の陶芸教室に通っています", [
        [
            "春から月に二回、となり町の陶芸教室に通っています。",
            "教室は古い農家を改装した建物で、土間に電動のろくろが四台並んでいます。",
            "先生は五十年近く器を作り続けてきた方で、教え方がとてもていねいです。",
            "最初の三か月は、ろくろを使わずに手で形を作る練習ばかりしていました。",
            "粘土のかたまりを指で少しずつ広げていくと、思ったよりも早く形が崩れてしまいます。",
            "先生からは、力を入れるよりも土の声を聞くようにと何度も言われました。",
        ],
        [
            "夏になってようやく、ろくろの前に座らせてもらえるようになりました。",
            "回る土の中心を両手でおさえる「土ごろし」が、いちばんむずかしい作業です。",
            "中心がずれていると、どんなにがんばっても器がゆがんでしまうのです。",
            "先月はじめて、自分でもまあまあだと思える湯のみを作ることができました。",
        ],
        [
            "形ができたら一週間ほど乾かして、素焼きをしてから釉薬をかけます。",
            "釉薬は灰色の液体なのに、焼き上がると青や茶色に変わるのが不思議です。",
            "本焼きの窯は教室の裏にあり、火を入れてから冷めるまで三日かかります。",
            "窯を開ける日は生徒がみんな集まって、自分の作品が出てくるのを待ちます。",
            "ひびが入ってしまったものもありましたが、わたしの湯のみは無事に焼き上がりました。",
            "少し重たくて形もいびつですが、毎朝その湯のみでお茶を飲むのが楽しみです。",
            "次はご飯茶わんに挑戦して、家族の分をそろえるのが今の目標です。",
        ],
    ]),
    "tram": ("百年走り続ける町の路面電車", [
        [
            "わたしの住む町には、百年以上前から路面電車が走っています。",
            "開業したころは、港と駅を結ぶわずか三キロほどの路線だったそうです。",
            "その後、町が大きくなるにつれて路線がのび、一時は十の系統がありました。",
            "自動車がふえた時代には、道路をふさぐからと廃止を求める声もあったといいます。",
            "それでも、お年寄りや学生の足として残してほしいという意見が多く集まりました。",
        ],
        [
            "今では五つの系統が残り、一日に四万人ほどの人が利用しています。",
            "車両の中には、五十年以上前に作られた古い電車もまだ元気に走っています。",
            "木の床と丸い電灯のある車内は、乗るだけで昔の町にもどったような気分になります。",
            "一方で、数年前からは床の低い新しい車両も少しずつ増えてきました。",
            "ベビーカーや車いすのまま乗りやすくなったと、利用する人にも好評です。",
        ],
        [
            "運賃は町の中心部ならどこまで乗っても同じで、子どもは半額になります。",
            "停留所の名前には、今はなくなった町名や学校の名前が残っているものもあります。",
            "停留所の名前をたどっていくと、昔の町のようすが少しずつ見えてきます。",
            "毎年秋には車庫が公開され、運転台に座ったり整備のようすを見学したりできます。",
            "去年は、花で飾った電車が町を一周する記念の運行も行われました。",
            "線路ぞいに住んでいると、朝一番の電車の音が目覚まし代わりになっています。",
            "これからも町の風景の一部として、長く走り続けてほしいと願っています。",
        ],
    ]),
    "winter": ("山あいの村の冬支度", [
        [
            "十一月に入ると、山あいのこの村では冬支度がいそがしくなります。",
            "まずは家のまわりの木や植えこみに、雪の重みで折れないよう縄をかけていきます。",
            "縄をかけるのはおじいさんの役目で、毎年同じ順番で作業を進めていきます。",
            "窓の外には板を打ちつけて、屋根から落ちる雪でガラスが割れないようにします。",
        ],
        [
            "畑では、大根や白菜を雪の下で保存するために、土に埋める作業が行われます。",
            "雪の下で寝かせた野菜は、甘みが増しておいしくなると昔から言われています。",
            "台所では、たくさんの大根を干して、たくあん漬けの準備も始まります。",
            "軒下にずらりと並んだ大根は、この季節ならではの風景のひとつです。",
            "物置からは、去年しまったままの雪かき用のスコップが出されます。",
        ],
        [
            "道路には雪をとかす水の出る管があり、役場の人が一本ずつ点検して回ります。",
            "灯油は一度に運べる量が限られるので、早めに注文しておくのが村の習わしです。",
            "子どもたちは、雪が降ったらそりで遊ぼうと、今から坂の下見をしています。",
            "冬のあいだは道が閉ざされることもあるので、食べ物や薬も多めに用意しておきます。",
            "となり近所で声をかけ合って、お年寄りだけの家の作業を手伝うこともあります。",
        ],
        [
            "初雪が降るころには、村じゅうがすっかり冬を迎える準備を終えています。",
            "きびしい季節ですが、雪に包まれた静かな夜には、ほかでは味わえない美しさがあります。",
            "春が来て雪がとけるまで、村の人たちは力を合わせて長い冬を過ごしていきます。",
        ],
    ]),
}


def ja_sentences() -> list[str]:
    """Every sentence of the Japanese articles, in order."""
    return [s for _title, paras in JA_ARTICLES.values() for para in paras for s in para]


def sample_sentences(kept_only: bool = True) -> list[str]:
    """The sentences of the bundled sample's Japanese pages (``src/jawebcorpus/sample/pages``,
    written for the project), distinct, in manifest order; ``kept_only``: only the pages the
    sample expects to be kept (no spam, no filter targets)."""
    import html
    import re

    from jawebcorpus.sample import PAGES_DIR, load_manifest

    out: dict[str, None] = {}
    for cap in load_manifest()["captures"]:
        if not cap["kind"].startswith("ja") or not cap.get("file"):
            continue
        if kept_only and not (cap["expected"] == "keep" or cap["expected"].startswith("dedup:")):
            continue
        src = (PAGES_DIR / cap["file"]).read_text(encoding="utf-8")
        src = re.sub(r"(?is)<(script|style|title)\b.*?</\1>", "", src)
        for line in html.unescape(re.sub(r"<[^>]+>", "\n", src)).splitlines():
            for sent in re.findall(r"[^。．]+[。．]", line.strip()):
                if len(sent) >= 10 and re.search("[\u3041-\u309f]", sent):
                    out[sent] = None
    return list(out)


#: A notice far too short for the quality rules (fewer than 400 characters).
SHORT_NOTICE = ("臨時休業のお知らせ", [[
    "いつもご利用いただきありがとうございます。",
    "店主の体調不良のため、今週の土曜日と日曜日はお休みをいただきます。",
    "ご迷惑をおかけしますが、どうぞよろしくお願いいたします。",
]])

#: Simplified Chinese (GBK / GB2312 pages): an old-book market.  No kana.
ZH_HANS = ("城南旧书市场", [
    "每到周末，城南的旧书市场总是挤满了来淘书的人。",
    "市场设在一座废弃的纺织厂里，高高的屋顶下摆着上百个书摊。",
    "摊主大多是上了年纪的老人，他们对自己的书如数家珍。",
    "我常去的那个摊位专卖地方志和老地图，价格也很公道。",
    "上个月，我在那里找到了一本五十年前出版的本地菜谱。",
    "书页已经发黄，但每一道菜的做法都写得清清楚楚。",
    "摊主告诉我，这本书是从一位退休厨师家里收来的。",
    "除了买书，很多人也喜欢在这里喝茶、聊天、下象棋。",
    "市场门口有一家小面馆，中午的时候总要排很长的队。",
    "近几年，越来越多的年轻人开始来这里寻找绝版的漫画和杂志。",
    "管理处计划明年修缮厂房的屋顶，让市场在雨天也能正常开放。",
    "对于爱书的人来说，这里不仅是买书的地方，更是一段城市的记忆。",
])

#: Traditional Chinese (Big5 pages): bamboo lanterns.  No kana.
ZH_HANT = ("竹編燈籠的小鎮", [
    "這座小鎮以手工製作的竹編燈籠聞名全台。",
    "每年元宵節前後，街道兩旁掛滿了各式各樣的燈籠。",
    "老師傅說，一盞燈籠從劈竹到完成，至少需要三天的時間。",
    "竹子必須先在陰涼的地方風乾，才不會在編織時斷裂。",
    "近年來，鎮上開設了體驗課程，讓遊客也能親手編一盞小燈籠。",
    "許多家長帶著孩子一起參加，教室裡總是充滿了笑聲。",
    "夜晚點燈之後，整條老街彷彿回到了幾十年前的模樣。",
    "鎮公所希望透過這些活動，讓年輕人願意留下來傳承這門手藝。",
    "今年的燈會將持續兩個星期，預計會吸引超過十萬名遊客。",
    "如果你有機會來訪，別忘了品嚐老街上的花生糖和杏仁茶。",
])

#: Korean (EUC-KR, Johab, ISO-2022-KR pages): a seaside market.
KO = ("바닷가 마을 시장 나들이", [
    "지난 주말에 가족과 함께 바닷가 마을에 있는 작은 시장에 다녀왔습니다.",
    "시장 입구에는 갓 잡은 생선을 파는 가게들이 길게 늘어서 있었습니다.",
    "아침 일찍 도착했더니 상인들이 얼음을 깔고 물건을 정리하느라 바빴습니다.",
    "우리는 시장 안쪽에 있는 식당에서 따뜻한 생선국으로 아침을 먹었습니다.",
    "주인 할머니는 삼십 년 넘게 같은 자리에서 장사를 해 오셨다고 합니다.",
    "점심 무렵에는 관광객이 많아져서 좁은 골목이 사람들로 가득 찼습니다.",
    "아이들은 말린 오징어와 김을 파는 가게 앞에서 한참 동안 구경을 했습니다.",
    "돌아오는 길에는 바다가 보이는 언덕에 올라 해가 지는 모습을 바라보았습니다.",
    "다음에는 봄에 열리는 축제 기간에 맞춰 다시 찾아가고 싶습니다.",
    "바닷바람이 차가우니 방문하실 분들은 따뜻한 옷을 꼭 챙기시기 바랍니다.",
])

#: Korean forum comments: compatibility jamo (ㅋ ㅎ ㅠ ㄷ …) sit in EUC-KR row 0xA4, the row
#: EUC-JP uses for hiragana, so an EUC-KR page full of them looks like EUC-JP kana to a byte
#: count.
KO_CHAT = ("자유게시판 - 오늘 본 영화 후기", [
    "ㅋㅋㅋㅋㅋ 마지막 장면에서 진짜 빵 터졌어요",
    "ㅠㅠㅠ 저는 중간에 울었는데요",
    "ㅎㅎㅎ 주인공 강아지가 너무 귀여웠음",
    "ㄷㄷㄷ 관객이 그렇게 많았다고요?",
    "ㅇㅇ 인정합니다 ㅋㅋㅋ",
    "ㅋㅋㅋㅋ 댓글 보다가 또 웃음",
    "ㅜㅜ 표가 매진이라 다음 주에 보러 가요",
    "ㅎㅎ 팝콘은 꼭 큰 걸로 사세요 ㅋㅋ",
    "ㄱㄱ 이번 주말에 같이 보러 갈 사람",
    "ㅋㅋㅋㅋㅋㅋ 감독 인터뷰도 재밌어요",
    "ㅠㅠ 벌써 끝났다니 아쉽다",
    "ㅎㅎㅎㅎ 속편 나오면 또 봐야지",
])

#: Sentences per language for language ID and for non-Japanese pages.
OTHER_LANGUAGES: dict[str, list[str]] = {
    "en": [
        "The harbour market opens at six every morning, long before the first ferry arrives.",
        "Most of the stalls sell fish that was caught during the night by local boats.",
        "Visitors are advised to bring cash, since only a few sellers accept cards.",
        "The town council plans to repair the old pier before the summer season begins.",
        "A small museum next to the station tells the story of the fishing families here.",
        "On Sundays a brass band plays in the square while children chase the pigeons.",
        "The walk along the cliffs takes about two hours and is suitable for beginners.",
        "Please keep dogs on a lead near the nesting areas between April and July.",
    ],
    "de": [
        "Der Wanderweg beginnt am Parkplatz hinter der alten Mühle und ist gut beschildert.",
        "Nach etwa einer Stunde erreicht man eine Hütte, in der man einkehren kann.",
        "Im Herbst färben sich die Buchenwälder am Hang in leuchtendes Gelb und Rot.",
        "Bei Regen wird der Pfad am Bach rutschig, daher sind feste Schuhe empfehlenswert.",
        "Die Gemeinde hat im letzten Jahr neue Bänke und Informationstafeln aufgestellt.",
        "Von der Aussichtsplattform sieht man bei klarem Wetter bis zu den Alpen.",
    ],
    "fr": [
        "Le marché couvert ouvre ses portes tous les samedis matin depuis plus d'un siècle.",
        "Les producteurs de la vallée y vendent des fromages, du miel et des légumes.",
        "La boulangerie au coin de la rue prépare encore son pain dans un four à bois.",
        "Les visiteurs peuvent suivre une visite guidée du vieux quartier chaque dimanche.",
        "Un concert de musique de chambre aura lieu dans l'église à la fin du mois.",
        "Il est conseillé de réserver une table, car le restaurant est souvent complet.",
    ],
    "es": [
        "La biblioteca del barrio organiza talleres de lectura para niños cada jueves.",
        "El parque central tiene un lago pequeño donde se pueden alquilar barcas de remo.",
        "Los vecinos celebran la fiesta mayor a mediados de agosto con música y baile.",
        "El museo de historia local abre de martes a domingo y la entrada es gratuita.",
        "Para llegar al mirador hay que subir una escalera de casi doscientos peldaños.",
        "En invierno el mercado instala puestos de castañas asadas junto a la plaza.",
    ],
    "it": [
        "Il piccolo borgo si trova sulla cima di una collina circondata da vigneti.",
        "Ogni estate la piazza principale ospita un festival di musica popolare.",
        "La trattoria vicino alla chiesa serve la pasta fatta a mano dalla nonna.",
        "Dal belvedere si può ammirare il tramonto sul lago nelle giornate limpide.",
        "Il sentiero per il castello è ripido ma ben segnalato lungo tutto il percorso.",
        "Il mercato del venerdì è il momento migliore per comprare formaggi locali.",
    ],
    "pt": [
        "A padaria da esquina abre às seis da manhã e o pão sai quentinho do forno.",
        "O festival de verão reúne artistas de várias regiões do país na praça central.",
        "O museu da cidade guarda fotografias antigas do porto e dos pescadores.",
        "Aos domingos, muitas famílias fazem piquenique no parque junto ao rio.",
        "A ciclovia liga o centro histórico à praia em menos de meia hora.",
        "Recomenda-se chegar cedo, porque o restaurante enche rapidamente ao almoço.",
    ],
    "id": [
        "Pasar tradisional di desa ini buka setiap hari sejak subuh hingga siang.",
        "Para pedagang menjual sayuran segar, buah-buahan, dan ikan dari sungai.",
        "Pengunjung dapat menyewa sepeda untuk berkeliling sawah di sekitar desa.",
        "Setiap tahun warga mengadakan festival layang-layang di lapangan sepak bola.",
        "Warung di dekat masjid terkenal dengan nasi goreng dan teh manisnya.",
        "Jalan menuju air terjun cukup curam, jadi gunakan sepatu yang nyaman.",
    ],
    "ru": [
        "Старый рынок в центре города открыт каждый день с раннего утра до вечера.",
        "Летом на набережной проходят концерты под открытым небом.",
        "В городском музее хранится коллекция старинных часов и карт.",
        "Туристам советуют подняться на холм, откуда виден весь город.",
        "Зимой на площади заливают каток и ставят большую ёлку.",
        "Маленькое кафе у вокзала славится своими пирогами с капустой.",
    ],
}

#: Boilerplate around an article: navigation, sidebar, footer (strings that must not end up in
#: the extracted main text).
NAV = ["ホーム", "お知らせ一覧", "地域の行事", "アクセスと地図", "よくある質問", "お問い合わせ窓口"]
SIDEBAR = [
    "人気の記事ランキング",
    "春の桜まつり出店者の募集について",
    "市民プールの営業時間が変わりました",
    "粗大ごみの出し方が新しくなります",
    "図書館の休館日カレンダー",
    "タグ一覧",
]
FOOTER = [
    "このサイトについて",
    "個人情報の取り扱い",
    "サイトマップ",
    "Copyright (C) 2023 Minato Town Journal. All rights reserved.",
]
#: "Related articles" teasers under the article: sentences, but not the article's.
RELATED = [
    "となり町の朝市で、今年はじめてのたけのこが並びました。",
    "小学校の校庭に、卒業生が植えた桜の苗木が根づいています。",
]
#: Readers' comments under the article (extraction is configured to leave comments out).
COMMENTS = [
    "コメント（2件）",
    "うちの子も毎回楽しみにしています。次回もぜひ参加したいです。",
    "写真がとてもきれいで、行ってみたくなりました。",
]
COOKIE = "当サイトでは利便性向上のためにクッキーを使用しています。同意する"
