package scalers

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kedactl/kedactl/scalers/meta"
)

// The management API answers in ATOM: an entity is an <entry> whose <content> holds its
// description (QueueDescription, SubscriptionDescription) with CountDetails; a listing is a
// <feed> of such entries, each named by its <title>. An entity that does not exist is answered
// 200 with an empty <feed> rather than 404.

// azureServiceBusKind is what an entity is, in errors and to find its description.
type azureServiceBusKind string

const (
	azureServiceBusQueue        azureServiceBusKind = "queue"
	azureServiceBusSubscription azureServiceBusKind = "subscription"
)

// description is the element of <content> that describes an entity of the kind.
func (k azureServiceBusKind) description() string {
	if k == azureServiceBusQueue {
		return "QueueDescription"
	}
	return "SubscriptionDescription"
}

// azureServiceBusEntity is one entry of a listing: its name and active message count.
type azureServiceBusEntity struct {
	name   string
	active int64
}

// atomEntry is an ATOM entry with the description elements kept raw: which one is there says
// what the entity is.
type atomEntry struct {
	Title   string `xml:"title"`
	Content struct {
		Descriptions []struct {
			XMLName      xml.Name
			CountDetails *struct {
				ActiveMessageCount *string `xml:"ActiveMessageCount"`
			} `xml:"CountDetails"`
		} `xml:",any"`
	} `xml:"content"`
}

// atomDocument is an <entry> or a <feed>, told apart by XMLName.
type atomDocument struct {
	XMLName xml.Name
	atomEntry
	Entries []atomEntry `xml:"entry"`
}

// errAzureServiceBusXML shortens an XML error: the decoder's may quote much of the body.
func errAzureServiceBusXML(err error) error {
	return errors.New(meta.Clip(err.Error(), 120))
}

// parseAzureServiceBusEntity reads the answer to a GET of one entity: its active message count,
// or exists false for the empty feed that stands for an entity that does not exist.
func parseAzureServiceBusEntity(body []byte, kind azureServiceBusKind) (active int64, exists bool, err error) {
	var doc atomDocument
	if err := xml.Unmarshal(body, &doc); err != nil {
		return 0, false, errAzureServiceBusXML(err)
	}
	switch doc.XMLName.Local {
	case "feed":
		if len(doc.Entries) == 0 {
			return 0, false, nil
		}
		return 0, false, errors.New("it is a feed of entries, not one entity")
	case "entry":
		n, err := doc.activeMessages(kind)
		return n, err == nil, err
	}
	return 0, false, fmt.Errorf("its root element is <%s>, not an ATOM <entry>", meta.Clip(doc.XMLName.Local, 40))
}

// parseAzureServiceBusFeed reads a page of a listing: each entry's name and active messages.
func parseAzureServiceBusFeed(body []byte, kind azureServiceBusKind) ([]azureServiceBusEntity, error) {
	var doc atomDocument
	if err := xml.Unmarshal(body, &doc); err != nil {
		return nil, errAzureServiceBusXML(err)
	}
	if doc.XMLName.Local != "feed" {
		return nil, fmt.Errorf("its root element is <%s>, not an ATOM <feed>", meta.Clip(doc.XMLName.Local, 40))
	}
	out := make([]azureServiceBusEntity, 0, len(doc.Entries))
	for _, e := range doc.Entries {
		n, err := e.activeMessages(kind)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", meta.Clip(strings.TrimSpace(e.Title), 60), err)
		}
		out = append(out, azureServiceBusEntity{name: strings.TrimSpace(e.Title), active: n})
	}
	return out, nil
}

// activeMessages is the entry's CountDetails/ActiveMessageCount, from its description of kind.
func (e *atomEntry) activeMessages(kind azureServiceBusKind) (int64, error) {
	for _, d := range e.Content.Descriptions {
		if d.XMLName.Local != kind.description() {
			continue
		}
		if d.CountDetails == nil || d.CountDetails.ActiveMessageCount == nil {
			return 0, fmt.Errorf("its %s has no CountDetails/ActiveMessageCount", kind.description())
		}
		v := strings.TrimSpace(*d.CountDetails.ActiveMessageCount)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("its ActiveMessageCount %q is not a count", meta.Clip(v, 40))
		}
		return n, nil
	}
	if len(e.Content.Descriptions) > 0 {
		return 0, fmt.Errorf("it describes a %s, not a %s", meta.Clip(strings.TrimSuffix(e.Content.Descriptions[0].XMLName.Local, "Description"), 40), kind)
	}
	return 0, fmt.Errorf("it has no %s", kind.description())
}
